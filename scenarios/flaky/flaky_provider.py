"""The deliberately flaky target of plans/flaky-detection.yaml (case FLAKY-DEMO).

It stands for the pre-fix `_get_lua_runtime`: every third call on a worker "loses the race" and
hands out a stale runtime. Deterministic on purpose, so the plan shows flake detection every time
(mixed attempts → `flaky`) instead of only when the scheduler happens to interleave badly.
"""
calls = 0


def call_api(prompt, options, context):
    global calls
    calls += 1
    stale = calls % 3 == 0
    return {"output": "stale runtime" if stale else "fresh runtime", "call": calls, "fresh": not stale}

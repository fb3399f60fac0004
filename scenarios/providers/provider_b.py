"""Seed 000, test 10: provider B of two; each keeps its own state in its own pool."""
import os

calls = 0


def call_api(prompt, options, context):
    global calls
    calls += 1
    return {"output": f"B says {prompt}", "calls": calls, "pid": os.getpid(), "label": "Provider B"}

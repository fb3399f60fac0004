"""Takes 0.3 s to import; keeps a call counter (which ephemeral mode resets every call)."""
import os
import time

time.sleep(0.3)
calls = 0


def call_api(prompt, options, context):
    global calls
    calls += 1
    return {"output": "ok", "pid": os.getpid(), "calls": calls}

"""Seed 000, test 3: a provider that takes a while per call, to show calls spread over workers."""
import os
import time


def call_api(prompt, options, context):
    time.sleep(float(options.get("config", {}).get("delay", 0.3)))
    return {"output": f"Handled: {prompt}", "pid": os.getpid()}

"""Seed 000, test 7: a provider that hangs on "slow" prompts (longer than the provider timeout)."""
import os
import time


def call_api(prompt, options, context):
    if "slow" in str(prompt).lower():
        time.sleep(180)
    return {"output": "Done", "pid": os.getpid()}

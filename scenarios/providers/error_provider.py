"""Seed 000, test 6: a provider that raises on some prompts; the worker must survive it."""
import os


def call_api(prompt, options, context):
    if "error" in str(prompt).lower():
        raise ValueError("Intentional test error")
    return {"output": f"Success: {prompt}", "pid": os.getpid()}

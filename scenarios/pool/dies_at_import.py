"""Dies hard while importing, every time (a segfaulting extension, say)."""
import os

os._exit(3)


def call_api(prompt, options, context):
    return {"output": "never"}

"""Seed 000, test 4: a provider whose import is expensive (a LangChain / ML stand-in).

The import cost is paid once per worker; calls after it are fast.
"""
import os
import time

_started = time.monotonic()
time.sleep(1.0)  # the heavy import
IMPORT_SECONDS = time.monotonic() - _started
IMPORTS = 1


def call_api(prompt, options, context):
    return {"output": f"Chain answer to: {prompt}", "import_seconds": IMPORT_SECONDS,
            "imports": IMPORTS, "pid": os.getpid()}

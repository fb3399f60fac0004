"""Takes one second to import (a model being loaded), then answers at once."""
import os
import time

_began = time.perf_counter()
time.sleep(1.0)
IMPORT_SECONDS = time.perf_counter() - _began


def call_api(prompt, options, context):
    return {"output": "ok: %s" % prompt, "pid": os.getpid(), "import_seconds": IMPORT_SECONDS}

"""Echoes the request's id back (so the load step can check each answer is its own) and keeps
per-worker state: the sessions and notes this worker process has seen."""
import os
import time

notes = []


def call_api(prompt, options, context):
    delay = float((options.get("config") or {}).get("delay", 0))
    if delay:
        time.sleep(delay)
    notes.append(prompt)
    return {
        "output": "answer to %s" % prompt,
        "request_id": context.get("request_id"),
        "pid": os.getpid(),
        "notes": list(notes),
    }

"""Seed 000, test 1: a plain synchronous provider. Module-level state shows the worker is reused."""
import os

CLIENT = {"initialised_in": os.getpid()}  # stands in for an API client built once at import


def call_api(prompt, options, context):
    words = len(str(prompt).split())
    return {
        "output": f"Echo: {prompt}",
        "client_pid": CLIENT["initialised_in"],
        "tokenUsage": {"prompt": words, "completion": words + 1, "total": 2 * words + 1},
        "config": options.get("config", {}),
        "vars": context.get("vars", {}),
    }

"""Seed 000, test 8: a provider whose calls outlast the test, so SIGINT arrives mid-call."""
import time


def call_api(prompt, options, context):
    time.sleep(60)
    return {"output": "should never be seen"}

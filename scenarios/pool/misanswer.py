"""A provider with a cache bug: every third answer is the previous request's."""
import os

previous = {"request_id": None}
served = [0]


def call_api(prompt, options, context):
    served[0] += 1
    mine = context.get("request_id")
    answer = previous["request_id"] if served[0] % 3 == 0 and previous["request_id"] else mine
    previous["request_id"] = mine
    return {"output": "answer", "request_id": answer, "pid": os.getpid()}

"""Seed 000, test 9: global state persists across calls on a persistent worker."""
counter = 0


def call_api(prompt, options, context):
    global counter
    counter += 1
    return {"output": f"Call #{counter}", "count": counter}

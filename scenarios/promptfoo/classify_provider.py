"""A classification provider as promptfoo documents it: call_classification_api(prompt, options)."""


def call_classification_api(prompt, options):
    negative = any(word in prompt.lower() for word in options["config"].get("negative_words", ["bad"]))
    score = 0.9 if negative else 0.1
    return {"classification": {"negative": score, "positive": round(1 - score, 2)}}

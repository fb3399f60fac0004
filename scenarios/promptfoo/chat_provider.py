"""A chat provider written for promptfoo: sync, async and named functions, token usage and cost."""
import asyncio
import os


def call_api(prompt, options, context):
    config = options.get("config", {})
    topic = context["vars"].get("topic", "nothing")
    words = len(prompt.split())
    return {
        "output": f"{config.get('prefix', '')}{prompt} [{topic}]",
        "tokenUsage": {"total": words + 3, "prompt": words, "completion": 3},
        "cost": 0.0005,
        "latencyMs": 7,
        "metadata": {"provider_id": options["id"], "base": os.path.basename(config["basePath"]),
                     "test": context["test"]["description"], "raw": context["prompt"]["raw"]},
    }


async def call_api_async(prompt, options, context):
    await asyncio.sleep(0)
    return {"output": prompt.upper(), "tokenUsage": {"total": 2, "prompt": 1, "completion": 1}, "cost": 0.001}


def shout(prompt, options, context):
    return {"output": prompt.upper() + "!"}

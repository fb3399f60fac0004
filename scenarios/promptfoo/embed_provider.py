"""An embedding provider as promptfoo documents it: call_embedding_api(prompt, options)."""


def call_embedding_api(prompt, options):
    size = int(options["config"].get("dimensions", 4))
    codes = [ord(c) for c in prompt] or [0]
    return {"embedding": [round(sum(codes[i::size]) / 1000.0, 3) for i in range(size)],
            "tokenUsage": {"total": len(prompt.split()), "prompt": len(prompt.split()), "completion": 0}}

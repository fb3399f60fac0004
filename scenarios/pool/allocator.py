"""Leaks memory on purpose: each call keeps `config.mb` more MiB alive (max_rss recycling)."""
import os

kept = []


def call_api(prompt, options, context):
    mb = int((options.get("config") or {}).get("mb", 20))
    kept.append(bytearray(mb << 20))  # bytearray(n) zero-fills: the pages are really touched
    return {"output": "holding %d MiB" % (len(kept) * mb), "pid": os.getpid(), "held_mb": len(kept) * mb}

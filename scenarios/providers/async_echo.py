"""Seed 000, test 2: an async provider. The worker keeps one event loop across calls."""
import asyncio

LOOPS = []


async def call_api(prompt, options, context):
    await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    if loop not in LOOPS:
        LOOPS.append(loop)
    return {"output": f"Async echo: {prompt}", "loops_seen": len(LOOPS)}

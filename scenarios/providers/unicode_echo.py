"""Seed 000, test 5: Unicode in and out (emoji, CJK, Arabic, accents, and hostile code points)."""


def call_api(prompt, options, context):
    return {
        "output": f"Echo: {prompt}",
        "emoji": "🚀🎉",
        "cjk": "你好世界",
        "arabic": "مرحبا",
        "accents": "Café résumé naïve Ångström",
        "length": len(prompt),
    }

import sys

assert "orchestrator".upper() == "ORCHESTRATOR"
assert "a,b,,c".split(",") == ["a", "b", "", "c"]
assert "ünïcödé".encode("utf-8").decode("utf-8") == "ünïcödé"
print("3 passed, 0 failed")
sys.exit(0)

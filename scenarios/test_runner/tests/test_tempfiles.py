"""Writes and reads back a temporary file; cleans up after itself."""
import os
import sys
import tempfile

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "data.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("line\n" * 100)
    with open(path, encoding="utf-8") as f:
        assert len(f.readlines()) == 100
print("1 passed, 0 failed")
sys.exit(0)

# Reverses each line of stdin: non-ASCII text must survive the round trip unchanged.
import sys

for line in sys.stdin:
    print(line.rstrip("\n")[::-1])

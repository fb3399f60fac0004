# Reads every line of stdin; prints the line, word and character counts, then the longest word.
import sys

text = sys.stdin.read()
words = text.split()
print(len(text.splitlines()), len(words), len(text))
print(max(words, key=len) if words else "")

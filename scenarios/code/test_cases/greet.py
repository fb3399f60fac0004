# Seed 002, test 2.1: greet the name read from stdin.
name = input()
print(f"Hello, {name}")

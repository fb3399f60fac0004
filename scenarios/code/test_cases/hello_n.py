# Seed 002, test 2.3: read N, print "Hello" N times.
n = int(input())
for _ in range(n):
    print("Hello")

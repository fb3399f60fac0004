# Seed 002, test 2.2: two integers on two lines, print their sum.
a = int(input())
b = int(input())
print(a + b)

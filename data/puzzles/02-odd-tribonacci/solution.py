import sys


def main():
    n = int(sys.stdin.read())
    a, b, c = 1, 1, 2
    total = 0
    for term in (a, b):
        if term <= n and term % 2 == 1:
            total += term
    while c <= n:
        if c % 2 == 1:
            total += c
        a, b, c = b, c, a + b + c
    print(total)


main()

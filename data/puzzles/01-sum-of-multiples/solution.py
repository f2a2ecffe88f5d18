import sys
from math import gcd


def total(n, d):
    m = n // d
    return d * m * (m + 1) // 2


def main():
    n, a, b = map(int, sys.stdin.read().split())
    both = a // gcd(a, b) * b
    print(total(n, a) + total(n, b) - total(n, both))


main()

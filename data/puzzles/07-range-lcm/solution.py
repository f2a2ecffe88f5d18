import sys
from math import gcd


def main():
    a, b = map(int, sys.stdin.read().split())
    result = 1
    for k in range(a, b + 1):
        result = result // gcd(result, k) * k
    print(result)


main()

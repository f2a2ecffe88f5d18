import sys


def main():
    n, k = map(int, sys.stdin.read().split())
    divisors = [0] * (n + 1)
    for d in range(1, n + 1):
        for multiple in range(d, n + 1, d):
            divisors[multiple] += 1
    print(sum(1 for m in range(1, n + 1) if divisors[m] == k))


main()

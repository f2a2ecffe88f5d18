import sys
from bisect import bisect_left


def main():
    n, x, m = map(int, sys.stdin.read().split())
    tails = []  # tails[k]: smallest last element of a rising subsequence of length k + 1
    for _ in range(n):
        x = x * 48271 % 2147483647
        value = x % m
        position = bisect_left(tails, value)
        if position == len(tails):
            tails.append(value)
        else:
            tails[position] = value
    print(len(tails))


main()

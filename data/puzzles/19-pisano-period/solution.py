import sys


def period(m):
    a, b = 0, 1
    steps = 0
    while True:
        a, b = b, (a + b) % m
        steps += 1
        if a == 0 and b == 1:
            return steps


def main():
    tokens = list(map(int, sys.stdin.read().split()))
    for m in tokens[1:1 + tokens[0]]:
        print(period(m))


main()

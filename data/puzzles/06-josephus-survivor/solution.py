import sys


def main():
    n, k = map(int, sys.stdin.read().split())
    survivor = 0  # zero-based survivor among the first i people
    for i in range(2, n + 1):
        survivor = (survivor + k) % i
    print(survivor + 1)


main()

import sys


def main():
    tokens = list(map(int, sys.stdin.read().split()))
    capacity, n = tokens[0], tokens[1]
    best = [0] * (capacity + 1)
    for i in range(n):
        weight, value = tokens[2 + 2 * i], tokens[3 + 2 * i]
        for w in range(capacity, weight - 1, -1):
            candidate = best[w - weight] + value
            if candidate > best[w]:
                best[w] = candidate
    print(best[capacity])


main()

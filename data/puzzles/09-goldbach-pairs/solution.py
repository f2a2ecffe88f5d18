import sys


def main():
    tokens = list(map(int, sys.stdin.read().split()))
    queries = tokens[1:1 + tokens[0]]
    limit = max(queries)
    is_prime = bytearray([1]) * (limit + 1)
    is_prime[0] = is_prime[1] = 0
    for p in range(2, int(limit ** 0.5) + 1):
        if is_prime[p]:
            is_prime[p * p::p] = bytearray(len(range(p * p, limit + 1, p)))
    for m in queries:
        print(sum(1 for p in range(2, m // 2 + 1) if is_prime[p] and is_prime[m - p]))


main()

import sys


def main():
    n = int(sys.stdin.read())
    limit = 1300000  # the 100000th prime is 1299709
    sieve = bytearray([1]) * (limit + 1)
    sieve[0] = sieve[1] = 0
    for p in range(2, int(limit ** 0.5) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytearray(len(range(p * p, limit + 1, p)))
    total = 0
    count = 0
    for p in range(2, limit + 1):
        if sieve[p]:
            total += p
            count += 1
            if count == n:
                break
    print(total)


main()

import sys

MOD = 1000000007


def main():
    n = int(sys.stdin.read())
    # Euler's pentagonal number theorem:
    # p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
    p = [0] * (n + 1)
    p[0] = 1
    for m in range(1, n + 1):
        total = 0
        k = 1
        while True:
            first = m - k * (3 * k - 1) // 2
            if first < 0:
                break
            term = p[first]
            second = m - k * (3 * k + 1) // 2
            if second >= 0:
                term += p[second]
            if k % 2 == 1:
                total += term
            else:
                total -= term
            k += 1
        p[m] = total % MOD
    print(p[n])


main()

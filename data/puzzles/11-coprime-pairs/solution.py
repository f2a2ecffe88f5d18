import sys


def main():
    n = int(sys.stdin.read())
    phi = list(range(n + 1))
    for p in range(2, n + 1):
        if phi[p] == p:  # p is prime: no smaller prime touched it
            for m in range(p, n + 1, p):
                phi[m] -= phi[m] // p
    print(2 * sum(phi[1:]) - 1)


main()

import sys


def main():
    n = int(sys.stdin.read())
    a, b = 1, 1
    for _ in range(n - 1):
        a, b = b, a + b
    print(sum(int(ch) for ch in str(a)))


main()

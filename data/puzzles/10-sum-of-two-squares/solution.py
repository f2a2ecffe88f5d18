import sys


def main():
    n = int(sys.stdin.read())
    hit = bytearray(n + 1)
    a = 0
    while a * a <= n:
        b = a
        while a * a + b * b <= n:
            hit[a * a + b * b] = 1
            b += 1
        a += 1
    print(sum(hit[1:]))


main()

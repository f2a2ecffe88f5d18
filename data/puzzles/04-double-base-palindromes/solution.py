import sys


def is_palindrome(n, base):
    digits = []
    while n > 0:
        digits.append(n % base)
        n //= base
    return digits == digits[::-1]


def main():
    n, b = map(int, sys.stdin.read().split())
    count = 0
    for k in range(1, n + 1):
        if is_palindrome(k, 10) and is_palindrome(k, b):
            count += 1
    print(count)


main()

import sys


def main():
    tokens = sys.stdin.read().split()
    k = int(tokens[0])
    digits = [int(ch) for ch in "".join(tokens[1:])]
    best = 0
    for start in range(len(digits) - k + 1):
        product = 1
        for d in digits[start:start + k]:
            product *= d
        best = max(best, product)
    print(best)


main()

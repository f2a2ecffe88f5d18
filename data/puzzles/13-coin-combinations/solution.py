import sys

MOD = 1000000007


def main():
    tokens = list(map(int, sys.stdin.read().split()))
    t, k = tokens[0], tokens[1]
    ways = [0] * (t + 1)
    ways[0] = 1
    for coin in tokens[2:2 + k]:
        for amount in range(coin, t + 1):
            ways[amount] = (ways[amount] + ways[amount - coin]) % MOD
    print(ways[t])


main()

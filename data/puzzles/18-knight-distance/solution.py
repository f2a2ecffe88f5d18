import sys
from collections import deque


def main():
    tokens = sys.stdin.read().split()
    n = int(tokens[0])
    board = tokens[1:1 + n]
    distance = [[-1] * n for _ in range(n)]
    distance[0][0] = 0
    queue = deque([(0, 0)])
    jumps = ((1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2))
    while queue:
        r, c = queue.popleft()
        for dr, dc in jumps:
            nr, nc = r + dr, c + dc
            if 0 <= nr < n and 0 <= nc < n and board[nr][nc] == "." and distance[nr][nc] < 0:
                distance[nr][nc] = distance[r][c] + 1
                queue.append((nr, nc))
    print(distance[n - 1][n - 1])


main()

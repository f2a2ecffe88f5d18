#include <iostream>
#include <string>
#include <vector>

int main() {
  int n;
  std::cin >> n;
  std::vector<std::string> board(n);
  for (std::string& row : board) std::cin >> row;
  std::vector<int> distance(n * n, -1);
  std::vector<int> queue = {0};
  distance[0] = 0;
  const int dr[8] = {1, 2, 2, 1, -1, -2, -2, -1};
  const int dc[8] = {2, 1, -1, -2, -2, -1, 1, 2};
  for (size_t head = 0; head < queue.size(); ++head) {
    const int r = queue[head] / n, c = queue[head] % n;
    for (int j = 0; j < 8; ++j) {
      const int nr = r + dr[j], nc = c + dc[j];
      if (nr < 0 || nr >= n || nc < 0 || nc >= n || board[nr][nc] != '.') continue;
      if (distance[nr * n + nc] >= 0) continue;
      distance[nr * n + nc] = distance[r * n + c] + 1;
      queue.push_back(nr * n + nc);
    }
  }
  std::cout << distance[n * n - 1] << "\n";
  return 0;
}

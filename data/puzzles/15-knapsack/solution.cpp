#include <algorithm>
#include <cstdint>
#include <iostream>
#include <vector>

int main() {
  int capacity, n;
  std::cin >> capacity >> n;
  std::vector<int64_t> best(capacity + 1, 0);
  for (int i = 0; i < n; ++i) {
    int weight;
    int64_t value;
    std::cin >> weight >> value;
    for (int w = capacity; w >= weight; --w) best[w] = std::max(best[w], best[w - weight] + value);
  }
  std::cout << best[capacity] << "\n";
  return 0;
}

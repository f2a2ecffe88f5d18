#include <cstdint>
#include <iostream>

int main() {
  int64_t n, k;
  std::cin >> n >> k;
  int64_t survivor = 0;  // zero-based survivor among the first i people
  for (int64_t i = 2; i <= n; ++i) survivor = (survivor + k) % i;
  std::cout << survivor + 1 << "\n";
  return 0;
}

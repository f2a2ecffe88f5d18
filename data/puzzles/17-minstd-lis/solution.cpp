#include <algorithm>
#include <cstdint>
#include <iostream>
#include <vector>

int main() {
  int64_t n, x, m;
  std::cin >> n >> x >> m;
  std::vector<int64_t> tails;  // tails[k]: smallest last element of a rising run of length k+1
  for (int64_t i = 0; i < n; ++i) {
    x = x * 48271 % 2147483647;
    const int64_t value = x % m;
    auto position = std::lower_bound(tails.begin(), tails.end(), value);
    if (position == tails.end()) {
      tails.push_back(value);
    } else {
      *position = value;
    }
  }
  std::cout << tails.size() << "\n";
  return 0;
}

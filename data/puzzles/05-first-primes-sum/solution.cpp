#include <cstdint>
#include <iostream>
#include <vector>

int main() {
  int n;
  std::cin >> n;
  const int limit = 1300000;  // the 100000th prime is 1299709
  std::vector<bool> composite(limit + 1, false);
  int64_t total = 0;
  int count = 0;
  for (int64_t p = 2; p <= limit && count < n; ++p) {
    if (composite[p]) continue;
    total += p;
    ++count;
    for (int64_t m = p * p; m <= limit; m += p) composite[m] = true;
  }
  std::cout << total << "\n";
  return 0;
}

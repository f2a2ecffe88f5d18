#include <algorithm>
#include <iostream>
#include <vector>

int main() {
  int q;
  std::cin >> q;
  std::vector<int> queries(q);
  for (int& m : queries) std::cin >> m;
  const int limit = *std::max_element(queries.begin(), queries.end());
  std::vector<bool> prime(limit + 1, true);
  prime[0] = prime[1] = false;
  for (long long p = 2; p * p <= limit; ++p) {
    if (!prime[p]) continue;
    for (long long m = p * p; m <= limit; m += p) prime[m] = false;
  }
  for (int m : queries) {
    int pairs = 0;
    for (int p = 2; p <= m / 2; ++p) pairs += prime[p] && prime[m - p];
    std::cout << pairs << "\n";
  }
  return 0;
}

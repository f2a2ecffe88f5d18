#include <cstdint>
#include <iostream>
#include <vector>

// Euler's pentagonal number theorem:
// p(m) = sum over k >= 1 of (-1)^(k+1) (p(m - k(3k-1)/2) + p(m - k(3k+1)/2)).
int main() {
  const int64_t kMod = 1000000007;
  int n;
  std::cin >> n;
  std::vector<int64_t> p(n + 1, 0);
  p[0] = 1;
  for (int m = 1; m <= n; ++m) {
    int64_t total = 0;
    for (int64_t k = 1;; ++k) {
      const int64_t first = m - k * (3 * k - 1) / 2;
      if (first < 0) break;
      int64_t term = p[first];
      const int64_t second = m - k * (3 * k + 1) / 2;
      if (second >= 0) term += p[second];
      total = k % 2 == 1 ? (total + term) % kMod : (total - term % kMod + kMod) % kMod;
    }
    p[m] = total;
  }
  std::cout << p[n] << "\n";
  return 0;
}

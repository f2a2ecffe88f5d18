#include <cstdint>
#include <iostream>
#include <numeric>

// Sum of the multiples of d in [1, n].
static int64_t Total(int64_t n, int64_t d) {
  const int64_t m = n / d;
  return d * m * (m + 1) / 2;
}

int main() {
  int64_t n, a, b;
  std::cin >> n >> a >> b;
  const int64_t both = a / std::gcd(a, b) * b;
  std::cout << Total(n, a) + Total(n, b) - Total(n, both) << "\n";
  return 0;
}

#include <cstdint>
#include <iostream>
#include <numeric>

int main() {
  int64_t a, b;
  std::cin >> a >> b;
  int64_t result = 1;
  for (int64_t k = a; k <= b; ++k) result = result / std::gcd(result, k) * k;
  std::cout << result << "\n";
  return 0;
}

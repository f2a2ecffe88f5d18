#include <cstdint>
#include <iostream>
#include <vector>

int main() {
  int n;
  std::cin >> n;
  std::vector<int64_t> phi(n + 1);
  for (int i = 0; i <= n; ++i) phi[i] = i;
  for (int p = 2; p <= n; ++p) {
    if (phi[p] != p) continue;  // not prime: a smaller prime already touched it
    for (int m = p; m <= n; m += p) phi[m] -= phi[m] / p;
  }
  int64_t sum = 0;
  for (int i = 1; i <= n; ++i) sum += phi[i];
  std::cout << 2 * sum - 1 << "\n";
  return 0;
}

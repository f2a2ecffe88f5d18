#include <iostream>
#include <vector>

int main() {
  int n, k;
  std::cin >> n >> k;
  std::vector<int> divisors(n + 1, 0);
  for (int d = 1; d <= n; ++d) {
    for (int m = d; m <= n; m += d) ++divisors[m];
  }
  int count = 0;
  for (int m = 1; m <= n; ++m) count += divisors[m] == k;
  std::cout << count << "\n";
  return 0;
}

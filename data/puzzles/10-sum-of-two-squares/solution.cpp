#include <iostream>
#include <vector>

int main() {
  long long n;
  std::cin >> n;
  std::vector<bool> hit(n + 1, false);
  for (long long a = 0; a * a <= n; ++a) {
    for (long long b = a; a * a + b * b <= n; ++b) hit[a * a + b * b] = true;
  }
  long long count = 0;
  for (long long k = 1; k <= n; ++k) count += hit[k];
  std::cout << count << "\n";
  return 0;
}

#include <cstdint>
#include <iostream>
#include <string>

int main() {
  int k;
  std::cin >> k;
  std::string digits, part;
  while (std::cin >> part) digits += part;
  int64_t best = 0;
  for (size_t start = 0; start + k <= digits.size(); ++start) {
    int64_t product = 1;
    for (int i = 0; i < k; ++i) product *= digits[start + i] - '0';
    if (product > best) best = product;
  }
  std::cout << best << "\n";
  return 0;
}

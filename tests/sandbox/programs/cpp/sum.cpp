#include <cstdint>
#include <iostream>

int main() {
  std::int64_t total = 0, value;
  while (std::cin >> value) total += value;
  std::cout << total << "\n";
  return 0;
}

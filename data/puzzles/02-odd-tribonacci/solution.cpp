#include <cstdint>
#include <iostream>

int main() {
  int64_t n;
  std::cin >> n;
  int64_t a = 1, b = 1, c = 2, total = 0;
  if (n >= 1) total += 2;  // T1 and T2
  while (c <= n) {
    if (c % 2 == 1) total += c;
    const int64_t next = a + b + c;
    a = b;
    b = c;
    c = next;
  }
  std::cout << total << "\n";
  return 0;
}

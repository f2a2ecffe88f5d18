#include <iostream>

static bool IsPalindrome(int n, int base) {
  int reversed = 0;
  for (int m = n; m > 0; m /= base) reversed = reversed * base + m % base;
  return reversed == n;
}

int main() {
  int n, b;
  std::cin >> n >> b;
  int count = 0;
  for (int k = 1; k <= n; ++k) {
    if (IsPalindrome(k, 10) && IsPalindrome(k, b)) ++count;
  }
  std::cout << count << "\n";
  return 0;
}

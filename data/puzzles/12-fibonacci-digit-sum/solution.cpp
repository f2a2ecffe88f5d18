#include <cstdint>
#include <iostream>
#include <vector>

// Numbers as little-endian limbs of base 10^9.
using Big = std::vector<int64_t>;
constexpr int64_t kBase = 1000000000;

static Big Add(const Big& x, const Big& y) {
  Big sum;
  int64_t carry = 0;
  for (size_t i = 0; i < x.size() || i < y.size() || carry; ++i) {
    int64_t limb = carry + (i < x.size() ? x[i] : 0) + (i < y.size() ? y[i] : 0);
    carry = limb / kBase;
    sum.push_back(limb % kBase);
  }
  return sum;
}

int main() {
  int n;
  std::cin >> n;
  Big a = {1}, b = {1};
  for (int i = 1; i < n; ++i) {
    Big next = Add(a, b);
    a = std::move(b);
    b = std::move(next);
  }
  int64_t digit_sum = 0;
  for (int64_t limb : a) {
    for (; limb > 0; limb /= 10) digit_sum += limb % 10;
  }
  std::cout << digit_sum << "\n";
  return 0;
}

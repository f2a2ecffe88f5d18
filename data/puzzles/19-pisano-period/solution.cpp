#include <iostream>

static long long Period(long long m) {
  long long a = 0, b = 1, steps = 0;
  do {
    const long long next = (a + b) % m;
    a = b;
    b = next;
    ++steps;
  } while (!(a == 0 && b == 1));
  return steps;
}

int main() {
  int q;
  std::cin >> q;
  for (int i = 0; i < q; ++i) {
    long long m;
    std::cin >> m;
    std::cout << Period(m) << "\n";
  }
  return 0;
}

#include <iostream>

int main() {
  std::cout << "hello, lockstep\n";
  return 0;
}

#include <cstdint>
#include <iostream>
#include <vector>

int main() {
  const int64_t kMod = 1000000007;
  int t, k;
  std::cin >> t >> k;
  std::vector<int64_t> ways(t + 1, 0);
  ways[0] = 1;
  for (int i = 0; i < k; ++i) {
    int coin;
    std::cin >> coin;
    for (int amount = coin; amount <= t; ++amount) {
      ways[amount] = (ways[amount] + ways[amount - coin]) % kMod;
    }
  }
  std::cout << ways[t] << "\n";
  return 0;
}

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

int main() {
  std::string a, b;
  std::cin >> a >> b;
  std::vector<int> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
    }
    std::swap(previous, current);
  }
  std::cout << previous[b.size()] << "\n";
  return 0;
}

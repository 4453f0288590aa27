// Side-by-side diff for golden-file tests (tests/explain_golden_test.cc,
// tests/review_golden_test.cc):
// on a mismatch the expected and actual output are printed next to each
// other, aligned by a longest-common-subsequence line diff, so a one-line
// change in a 200-line SARIF document is found at a glance.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace pgvise::testing {

inline std::vector<std::string> GoldenLines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) v.push_back(line);
  return v;
}

// Expected | actual: "|" marks a changed line, "<" a line only expected,
// ">" a line only in the actual output.
inline std::string SideBySide(const std::string& expected, const std::string& actual) {
  const auto a = GoldenLines(expected), b = GoldenLines(actual);
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  constexpr size_t kW = 70;
  auto clip = [](const std::string& s) {
    if (s.size() <= kW) return s + std::string(kW - s.size(), ' ');
    return s.substr(0, kW - 1) + "~";
  };
  std::ostringstream out;
  out << clip("EXPECTED") << "   ACTUAL\n";
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out << clip(a[i++]) << "   " << b[j++] << "\n";
    } else if (i < n && j < m && lcs[i + 1][j + 1] == lcs[i][j]) {
      out << clip(a[i++]) << " | " << b[j++] << "\n";
    } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out << clip(a[i++]) << " <\n";
    } else {
      out << clip("") << " > " << b[j++] << "\n";
    }
  }
  return out.str();
}

}  // namespace pgvise::testing

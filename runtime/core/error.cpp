#include "core/error.h"

#include <algorithm>
#include <vector>

namespace scalelab {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  // Letter case costs nothing ("TOKENS" finds "tokens"), except to choose between candidates
  // equally near otherwise; then the first of equally near ones wins.
  std::string best;
  const std::string folded = lower(name);
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1, best_exact = 0;
  for (const auto& candidate : candidates) {
    const size_t d = edit_distance(folded, lower(candidate));
    if (d > best_distance) continue;
    const size_t exact = edit_distance(name, candidate);
    if (d < best_distance || (!best.empty() && exact < best_exact)) {
      best_distance = d;
      best_exact = exact;
      best = candidate;
    }
  }
  if (!best.empty()) return best;
  // A longer name for the same thing: its words' initials, then one of its words.
  std::vector<std::string> words;
  for (size_t at = 0; at <= folded.size();) {
    const size_t end = std::min(folded.find('_', at), folded.size());
    if (end > at) words.push_back(folded.substr(at, end - at));
    at = end + 1;
  }
  if (words.size() < 2) return best;
  std::string initials;
  for (const auto& w : words) initials += w[0];
  for (const auto& candidate : candidates)
    if (lower(candidate) == initials) return candidate;
  for (const auto& w : words)
    for (const auto& candidate : candidates)
      if (w.size() >= 2 && lower(candidate) == w) return candidate;
  return best;
}

std::string closest_name(const std::string& name,
                         const std::initializer_list<const char*>& candidates) {
  return closest_name(name, std::vector<std::string>(candidates.begin(), candidates.end()));
}

}  // namespace scalelab

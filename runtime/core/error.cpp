#include "core/error.h"

#include <algorithm>
#include <vector>

namespace scalelab {

namespace {

// Insertions, deletions, substitutions and swaps of two neighbouring letters ("cdua": "cuda") each
// count one edit (the optimal string alignment distance).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> before(b.size() + 1), row(b.size() + 1), next(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    next[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      next[j] = std::min({row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) next[j] = std::min(next[j], before[j - 2] + 1);
    }
    std::swap(before, row);
    std::swap(row, next);
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
  // Another name for the same thing, when it is plainly that: a candidate holding all the name's
  // words ("min_lr": min_lr_ratio), the words' initials ("learning_rate": lr), or one word where the
  // others only say it is a size ("aspect_ratio": aspect, "batch_size": batch). Not one word of
  // several otherwise: "min_lr" is not lr, nor "micro_batch" batch.
  auto words_of = [](const std::string& text) {
    std::vector<std::string> words;
    for (size_t at = 0; at <= text.size();) {
      const size_t end = std::min(text.find('_', at), text.size());
      if (end > at) words.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    return words;
  };
  const std::vector<std::string> words = words_of(folded);
  if (words.size() < 2) return best;
  for (const auto& candidate : candidates) {
    const std::vector<std::string> theirs = words_of(lower(candidate));
    const bool all = std::all_of(words.begin(), words.end(), [&](const std::string& w) {
      return std::find(theirs.begin(), theirs.end(), w) != theirs.end();
    });
    if (all && (best.empty() || candidate.size() < best.size())) best = candidate;
  }
  if (!best.empty()) return best;
  std::string initials;
  for (const auto& w : words) initials += w[0];
  for (const auto& candidate : candidates)
    if (lower(candidate) == initials) return candidate;
  static const char* const kSizeWords[] = {"ratio", "size", "len", "length"};
  for (const auto& w : words)
    for (const auto& candidate : candidates) {
      if (lower(candidate) != w) continue;
      const bool rest_is_size = std::all_of(words.begin(), words.end(), [&](const std::string& other) {
        return other == w || std::find(std::begin(kSizeWords), std::end(kSizeWords), other) != std::end(kSizeWords);
      });
      if (rest_is_size) return candidate;
    }
  return best;
}

std::string closest_name(const std::string& name,
                         const std::initializer_list<const char*>& candidates) {
  return closest_name(name, std::vector<std::string>(candidates.begin(), candidates.end()));
}

}  // namespace scalelab

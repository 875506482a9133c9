// Answers: named quantities with units and intervals, and their compact printed table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "core/units.h"
#include "plan/plan.h"

namespace scalelab::plan {

namespace {
// Three significant digits without printf's exponent form, which printed a data-hungry allocation's
// "tokens/param 1.67e+03" beside "1.00e22 FLOP": 1670 up to 9990, then 1.67e4; below 1e-3, 1.81e-6
// (core/units.h's rule for epochs and ratios).
std::string three_digits(double value) { return format_ratio(value); }
}  // namespace

std::string format_quantity(double value, Unit unit) {
  if (std::isnan(value)) return "—";
  if (std::isinf(value)) return value > 0 ? "∞" : "−∞";
  switch (unit) {
    case Unit::Params:
    case Unit::Tokens:
    case Unit::Hours:
      return format_count(value);
    case Unit::TokensFine: {
      // As format_count (core/units.h): SI suffixes up to T, then scientific (1.49e16, not 14.9P).
      if (std::fabs(value) >= 999.95e12) return format_flops(value, 3);
      static const struct { double scale; const char* suffix; } units[] = {
          {1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
      for (const auto& u : units)
        if (std::fabs(value) >= u.scale * 0.9995) {
          char buffer[32];
          std::snprintf(buffer, sizeof buffer, "%.1f", value / u.scale);
          return std::string(buffer) + u.suffix;
        }
      return format_significant(value, 3);
    }
    case Unit::Flops: {
      // Three significant digits, as in Chinchilla's table: 1.92e19. Below 1000 FLOP, down to 1e-3
      // (where three_digits prints plainly too), the same digits without the exponent: 311, 31.1, 3.11
      // and 0.306, not 3.11e2, 3.11e1, 3.11e0 and 3.06e-1.
      if (!std::isfinite(value) || value <= 0) return format_significant(value, 3);
      int exponent = static_cast<int>(std::floor(std::log10(value)));
      double mantissa = value / std::pow(10.0, exponent);
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2f", mantissa);
      if (std::string(buffer) == "10.00") {
        exponent += 1;
        mantissa /= 10;
        std::snprintf(buffer, sizeof buffer, "%.2f", mantissa);
      }
      if (exponent >= -3 && exponent <= 2) {
        std::snprintf(buffer, sizeof buffer, "%.*f", 2 - exponent, mantissa * std::pow(10.0, exponent));
        return buffer;
      }
      return std::string(buffer) + "e" + std::to_string(exponent);
    }
    case Unit::Loss: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.4f", value);
      return buffer;
    }
    case Unit::Epochs:
    case Unit::Ratio:
      return three_digits(value);
    case Unit::Fraction:
      return three_digits(value * 100) + "%";
    case Unit::Plain:
      return three_digits(value);
  }
  return three_digits(value);
}

bool Answer::has(const std::string& name) const {
  for (const auto& q : quantities)
    if (q.name == name) return true;
  return false;
}

const Quantity& Answer::quantity(const std::string& name) const {
  for (const auto& q : quantities)
    if (q.name == name) return q;
  std::string list;
  for (const auto& q : quantities) list += (list.empty() ? "" : ", ") + q.name;
  std::string suggestion = closest_name(name, names());
  fail("this answer (", question, ") has no '", name, "'",
       suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?",
       list.empty() ? (rows.empty() ? " (it has no quantities)" : " (it has no quantities of its own, only rows: answer.rows[i]." + name + ")")
                    : " (it has " + list + ")");
}

Answer& Answer::set(const std::string& name, double value, Unit unit, const std::string& label) {
  for (auto& q : quantities)
    if (q.name == name) {
      q.value = value;
      q.unit = unit;
      if (!label.empty()) q.label = label;
      return *this;
    }
  quantities.push_back({name, value, unit, label.empty() ? name : label, {}, false});
  return *this;
}

std::vector<std::string> Answer::names() const {
  std::vector<std::string> out;
  for (const auto& q : quantities) out.push_back(q.name);
  return out;
}

namespace {

std::string cell(const Quantity& q) {
  std::string text = format_quantity(q.value, q.unit);
  if (q.interval.valid())
    text += " [" + format_quantity(q.interval.lo, q.unit) + ", " + format_quantity(q.interval.hi, q.unit) + "]";
  return text;
}

size_t width(const std::string& s) {
  // Display width: count UTF-8 code points.
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string pad(const std::string& s, size_t w, bool right) {
  size_t n = width(s);
  if (n >= w) return s;
  return right ? std::string(w - n, ' ') + s : s + std::string(w - n, ' ');
}

// Whether the block of quantities says nothing the first row does not (plan.compare's answer is the
// law's optimum, its first row): printed once, in the table.
bool repeats_first_row(const Answer& a) {
  if (a.rows.empty() || a.quantities.empty()) return false;
  auto same = [](double x, double y) {
    return x == y || (std::isnan(x) && std::isnan(y)) || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  };
  const Answer& first = a.rows.front();
  for (const auto& q : a.quantities) {
    if (!first.has(q.name)) return false;
    const Quantity& r = first.quantity(q.name);
    if (!same(q.value, r.value) || q.interval.valid() != r.interval.valid()) return false;
    if (q.interval.valid() && !(same(q.interval.lo, r.interval.lo) && same(q.interval.hi, r.interval.hi))) return false;
  }
  return true;
}

// Whether any quantity of the answer or of its rows has an interval: bootstrap samples that all give
// the same numbers (a law fitted to noise-free runs) leave none, and "95% intervals over 20 bootstrap
// samples" above a table without one promised what it did not show.
bool any_interval(const Answer& a) {
  for (const auto& q : a.quantities)
    if (q.interval.valid()) return true;
  return std::any_of(a.rows.begin(), a.rows.end(), any_interval);
}

}  // namespace

std::string Answer::Summary() const {
  std::ostringstream out;
  out << question;
  if (!law.empty()) out << "\n  law: " << law;
  if (!method.empty()) out << " · " << method;
  // Said once: a question counted otherwise than 6·N·D says so itself.
  if (!convention.empty() && question.find(convention) == std::string::npos) out << " · " << convention;
  if (samples > 0 && !any_interval(*this)) {
    out << " · no intervals: its " << samples << " bootstrap samples all give these numbers";
  } else if (samples > 0) {
    out << " · 95% intervals over " << samples << " bootstrap samples";
    if (samples_failed > 0) out << " (" << samples_failed << " without an answer)";
  }
  out << "\n";
  size_t label_width = 0;
  const bool block = !repeats_first_row(*this);
  for (const auto& q : quantities) label_width = std::max(label_width, width(q.label));
  for (const auto& q : quantities)
    if (block) out << "  " << pad(q.label, label_width, false) << "  " << cell(q) << "\n";
  if (cost) out << "  cost: " << cost->Line() << "\n";
  if (!rows.empty()) {
    // Columns: the union of row quantities, in first-seen order.
    std::vector<std::pair<std::string, std::string>> columns;  // name, label
    for (const auto& row : rows)
      for (const auto& q : row.quantities)
        if (std::none_of(columns.begin(), columns.end(), [&](const auto& c) { return c.first == q.name; }))
          columns.emplace_back(q.name, q.label);
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> widths;
    const bool named = !row_names.empty();
    std::vector<std::string> header;
    if (named) header.push_back(row_label.empty() ? "" : row_label);
    for (const auto& c : columns) header.push_back(c.second);
    cells.push_back(header);
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<std::string> line;
      if (named) line.push_back(r < row_names.size() ? row_names[r] : "");
      for (const auto& c : columns) line.push_back(rows[r].has(c.first) ? cell(rows[r].quantity(c.first)) : "");
      cells.push_back(line);
    }
    widths.assign(header.size(), 0);
    for (const auto& line : cells)
      for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], width(line[i]));
    for (size_t r = 0; r < cells.size(); ++r) {
      out << " ";
      for (size_t i = 0; i < cells[r].size(); ++i)
        out << " " << pad(cells[r][i], widths[i], !(named && i == 0)) << (i + 1 < cells[r].size() ? " " : "");
      out << "\n";
    }
  }
  for (const auto& note : notes) out << "  note: " << note << "\n";
  std::string text = out.str();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string Answer::Brief() const {
  std::ostringstream out;
  const char* sep = "";
  auto part = [&](const char* name, const std::string& suffix) {
    if (!has(name)) return;
    const Quantity& q = quantity(name);
    out << sep << format_quantity(q.value, q.unit) << suffix;
    sep = ", ";
  };
  part("N", " params");
  part("D", " tokens");
  if (has("epochs")) {
    out << " (" << format_quantity(value("epochs"), Unit::Epochs) << " epochs)";
  }
  if (has("loss")) {
    out << sep << "loss " << format_quantity(value("loss"), Unit::Loss);
    sep = ", ";
  }
  part("flops", " FLOP");
  if (cost) out << sep << format_count(cost->gpu_hours) << " " << cost->gpu << "-hours";
  if (!rows.empty()) out << sep << rows.size() << " rows";
  return out.str();
}

std::string Answer::Markdown() const {
  std::ostringstream out;
  out << "**" << question << "**";
  if (!law.empty()) out << " — " << law;
  if (!method.empty() || !convention.empty())
    out << " (" << method << (method.empty() || convention.empty() ? "" : "; ") << convention << ")";
  out << "\n";
  if (samples > 0 && !any_interval(*this)) {
    out << "\nNo intervals: the " << samples << " bootstrap samples all give these numbers.\n";
  } else if (samples > 0) {
    out << "\n95% intervals over " << samples << " bootstrap samples";
    // As Summary() says: the samples that had no answer are left out of the intervals.
    if (samples_failed > 0)
      out << " (" << samples_failed << " without an answer, left out: the intervals are over the other "
          << samples - samples_failed << ")";
    out << ".\n";
  }
  if (!quantities.empty() && !repeats_first_row(*this)) {
    const bool intervals = std::any_of(quantities.begin(), quantities.end(), [](const Quantity& q) { return q.interval.valid(); });
    out << (intervals ? "\n| quantity | value | 95% interval |\n|---|---:|---|\n" : "\n| quantity | value |\n|---|---:|\n");
    for (const auto& q : quantities) {
      out << "| " << q.label << " | " << format_quantity(q.value, q.unit) << " |";
      if (intervals) {
        out << " ";
        if (q.interval.valid())
          out << format_quantity(q.interval.lo, q.unit) << " – " << format_quantity(q.interval.hi, q.unit);
        out << " |";
      }
      out << "\n";
    }
  }
  if (cost) out << "\nCost: " << cost->Line() << "\n";
  if (!rows.empty()) {
    std::vector<std::pair<std::string, std::string>> columns;
    for (const auto& row : rows)
      for (const auto& q : row.quantities)
        if (std::none_of(columns.begin(), columns.end(), [&](const auto& c) { return c.first == q.name; }))
          columns.emplace_back(q.name, q.label);
    const bool named = !row_names.empty();
    out << "\n|";
    if (named) out << " " << row_label << " |";
    for (const auto& c : columns) out << " " << c.second << " |";
    out << "\n|";
    if (named) out << "---|";
    for (size_t i = 0; i < columns.size(); ++i) out << "---:|";
    out << "\n";
    for (size_t r = 0; r < rows.size(); ++r) {
      out << "|";
      if (named) out << " " << (r < row_names.size() ? row_names[r] : "") << " |";
      for (const auto& c : columns) out << " " << (rows[r].has(c.first) ? cell(rows[r].quantity(c.first)) : "") << " |";
      out << "\n";
    }
  }
  for (const auto& note : notes) out << "\n- " << note;
  if (!notes.empty()) out << "\n";
  return out.str();
}

}  // namespace scalelab::plan

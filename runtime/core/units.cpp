#include "core/units.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>

namespace scalelab {

std::string format_significant(double value, int digits) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  return buffer;
}

std::string format_round_trip(double value) {
  for (int digits = 6; digits < 17; ++digits) {
    std::string text = format_significant(value, digits);
    if (std::strtod(text.c_str(), nullptr) == value) return text;
  }
  return format_significant(value, 17);
}

namespace {

// `value` as mantissa and power of ten, "1.2e22", the mantissa with `digits` significant digits;
// from 1e-3 up to 1000, as format_number and the planner's answers print there, the same digits
// plainly: 311, 31, 3.1 and 0.31, not 3.1e2, 3.1e1, 3.1e0 and 3.1e-1 (a whole number below 1000 in
// full: 150 at two digits, not %g's 1.5e+02).
std::string format_scientific(double value, int digits) {
  if (!std::isfinite(value) || value == 0) return format_significant(value, digits);
  // The mantissa and exponent as printf rounds them ("9.96e21" at two digits is "1.0e+22"): dividing
  // by 10^exponent overflowed to "infe-323" for the least subnormal (10^-324 is 0 in a double).
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*e", std::max(digits, 1) - 1, value);
  char* e = std::strchr(buffer, 'e');
  const int exponent = std::atoi(e + 1);
  *e = '\0';
  const double mantissa = std::strtod(buffer, nullptr);
  if (exponent >= -3 && exponent <= 2) {
    const double rounded = std::strtod(format_significant(value, digits).c_str(), nullptr);
    return format_significant(rounded, std::max(digits, exponent + 1));
  }
  return format_significant(mantissa, digits) + "e" + std::to_string(exponent);
}

}  // namespace

std::string format_count(double value) {
  if (!std::isfinite(value)) return format_significant(value, 3);
  static const struct { double scale; const char* suffix; } units[] = {
      {1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
  double magnitude = std::fabs(value);
  for (const auto& unit : units) {
    // Round first so that 999.96e6 prints as 1B rather than 1e+03M. strtod, not std::stod: stod
    // throws out_of_range ("stod") for a subnormal, which 1e-300 / 1e12 is.
    double scaled = std::strtod(format_significant(magnitude / unit.scale, 3).c_str(), nullptr);
    if (scaled >= 1.0) {
      if (scaled >= 1000) {
        if (unit.scale < 1e12) continue;
        return format_scientific(value, 3);  // past the suffixes: 1.49e16, not 14.9P or 1.49e+04T
      }
      return (value < 0 ? "-" : "") + format_significant(scaled, 3) + unit.suffix;
    }
  }
  // Below 1000 plainly; below 1e-3 as FLOP counts print there (7.02e-9 GPU-hours, not printf's 7.02e-09).
  return format_scientific(value, 3);
}

std::string format_ratio(double value) {
  const double shown = std::strtod(format_significant(value, 3).c_str(), nullptr);
  const double magnitude = std::fabs(shown);
  if (!std::isfinite(value) || value == 0 || (magnitude >= 1e-3 && magnitude < 1000)) return format_significant(value, 3);
  if (magnitude >= 1000 && magnitude < 1e4) return std::to_string(std::llround(shown));
  return format_scientific(value, 3);
}

std::string format_counted(double value, const std::string& noun) {
  return format_count(value) + " " + noun + (value == 1 ? "" : "s");
}

std::string format_counted(const std::string& number, const std::string& singular, const std::string& plural) {
  return number + " " + (number == "1" ? singular : plural);
}

std::string format_counted(int64_t count, const std::string& singular, const std::string& plural) {
  return format_counted(std::to_string(count), singular, plural);
}

std::string format_number(double value, int digits) {
  const std::string text = format_significant(value, digits);
  return text.find('e') == std::string::npos ? text : format_scientific(value, digits);
}

std::string format_flops(double value) { return format_scientific(value, 2); }
std::string format_flops(double value, int digits) { return format_scientific(value, digits); }

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes)) return format_significant(bytes, 3) + " B";  // "nan B", "inf B"
  if (bytes < 0) return "-" + format_bytes(-bytes);
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 999.5 && u < 6) {
    bytes /= 1000;
    ++u;
  }
  // Past EB, in scientific notation as counts print there: "1.2e21 B", not printf's "1.2e+03 EB".
  if (std::strtod(format_significant(bytes, 3).c_str(), nullptr) >= 1000) return format_scientific(bytes * 1e18, 3) + " B";
  return (u == 0 ? std::to_string(static_cast<long long>(bytes)) : format_significant(bytes, 3)) + " " + units[u];
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return format_significant(seconds, 3);
  // A negative span with its sign (-5 s printed "-5e+03 ms"); below 1 s in ms as format_number writes
  // them (plain down to 0.0001 ms, then "7.02e-6 ms", not printf's "7.02e-06 ms").
  if (seconds < 0) return "-" + format_duration(-seconds);
  if (seconds < 1) return format_number(seconds * 1e3, 3) + " ms";
  if (seconds < 120) return format_significant(seconds, 3) + " s";
  if (seconds < 7200) return format_significant(seconds / 60, 3) + " min";
  if (seconds < 3 * 86400) return format_significant(seconds / 3600, 3) + " h";
  // Days up to 999, then years ("2.74 years", "1.2k years"): never "2.89e+03 d".
  const double days = std::strtod(format_significant(seconds / 86400, 3).c_str(), nullptr);
  if (days < 1000) return format_significant(days, 3) + " d";
  const double years = seconds / (365.25 * 86400);
  return (years < 999.5 ? format_significant(years, 3) : format_count(years)) + " years";
}

}  // namespace scalelab

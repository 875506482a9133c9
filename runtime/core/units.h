// Human-readable numbers in the field's units: 124.4M params, 237B tokens, 1.2e22 FLOP, 41k hours.
#pragma once

#include <string>

namespace scalelab {

// The one rule for the numbers answers and reports print:
// - counts (parameters, tokens, hours, documents): format_count, SI suffixes up to T, then scientific;
// - FLOPs: format_flops, always scientific (plain only from 1e-3 up to 1000);
// - epochs, ratios and other plain quantities: format_ratio, plain up to 9999, then scientific.
// Scientific forms never carry printf's "+" or leading zeros: 1.49e8, not 1.49e+08.
//
// 1234 -> "1.23k", 7.02e9 -> "7.02B", 2.1e12 -> "2.1T" (three significant digits, trailing zeros
// dropped). Values below 1000 print plainly ("512", "0.5", "0.00123"); from 1e15 on (past T), in
// scientific notation ("1.49e16", "7.48e26"), as FLOP counts print: never "11.9P", which few readers
// know; below 1e-3 too ("7.02e-9", never printf's "7.02e-09").
std::string format_count(double value);

// Epochs, ratios (tokens per parameter) and other plain quantities, three significant digits: 0.5,
// 9.49, 1670 (whole from 1000 up to 9999), then scientific: 1.49e8; below 1e-3, 1.81e-6.
std::string format_ratio(double value);

// A count and its noun, plural unless the count is 1: "1 document", "12 documents", "1.2k files".
std::string format_counted(double value, const std::string& noun);
// A number as written and its noun, singular when the number reads "1": "1 batch", "3 batches",
// "1 epoch", "2.5 epochs".
std::string format_counted(const std::string& number, const std::string& singular, const std::string& plural);
// The same for an exact count: "1 batch", "12 batches".
std::string format_counted(int64_t count, const std::string& singular, const std::string& plural);

// FLOP counts in scientific notation with two significant digits: 1.2e+22 -> "1.2e22"; or with
// `digits` of them (5.76e23 -> "5.76e23" with 3). From 1e-3 up to 10 plainly: "3.1", "0.31".
std::string format_flops(double value);
std::string format_flops(double value, int digits);

// Bytes in decimal units with three significant digits: "512 B", "3.2 MB", "1.4 GB", "3.3 TB"; past
// EB in scientific notation ("1.2e21 B"); a negative amount with its sign ("-3.2 MB"), NaN and
// infinities as "nan B", "inf B", "-inf B".
std::string format_bytes(double bytes);

// Seconds as "850 ms", "12.3 s", "4.2 min", "3.1 h", "2.5 d", "7.91 years"; a negative span with its
// sign ("-5 s"), a tiny one in ms as format_number writes it ("7.02e-6 ms").
std::string format_duration(double seconds);

// A number with `digits` significant digits, trailing zeros dropped: 2.22560 -> "2.2256".
std::string format_significant(double value, int digits);
// The same without printf's exponent form, as the planner's answers and FLOP counts print: 6.4e13
// rather than 6.4e+13, 1.2e-5 rather than 1.2e-05; plain where %g is plain (406.4, 0.0005).
std::string format_number(double value, int digits);
// The fewest significant digits (6 to 17) that read back as exactly `value`: 0.003 -> "0.003",
// 1/3 -> "0.3333333333333333".
std::string format_round_trip(double value);

}  // namespace scalelab

// Runs gnuplot scripts for the plot module.
//
// The script goes to gnuplot through a pipe (its data travels inline as datablocks, so nothing is
// written besides the figure the script asks for). gnuplot's error output is captured: errors
// become a scalelab::Error that quotes gnuplot's message and the offending script line; warnings
// are returned. A missing gnuplot is an Error that names the Debian package to install.
//
//   plot::GnuplotOptions options;            // program "" -> $SCALELAB_GNUPLOT, else gnuplot on PATH
//   plot::GnuplotResult r = plot::RunGnuplot("set terminal svg\nset output 'a.svg'\nplot x\n", options);
#pragma once

#include <string>
#include <vector>

namespace scalelab::plot {

// The Debian package that provides gnuplot without X (named in every "not found" message).
inline constexpr const char* kGnuplotPackage = "gnuplot-nox";

struct GnuplotOptions {
  // The gnuplot program: a name looked up on PATH, or a path. Empty: the environment variable
  // SCALELAB_GNUPLOT if set, else "gnuplot".
  std::string program;
  // gnuplot is killed and an error raised when a script runs longer than this.
  double timeout_seconds = 60;
  // Extra command-line arguments (for instance "-persist" for a window that stays open).
  std::vector<std::string> arguments;

  void Validate() const;
};

struct GnuplotResult {
  std::string program;                // the resolved path that ran
  std::string output;                 // what the script printed (gnuplot's stdout)
  std::vector<std::string> warnings;  // gnuplot's warnings, one per entry
  double seconds = 0;

  std::string BriefReport() const;
};

// The program options.program names, resolved to an executable path. Throws scalelab::Error
// naming gnuplot-nox when there is none.
std::string FindGnuplot(const GnuplotOptions& options);

// Runs `script` (a complete gnuplot script) and waits for gnuplot to exit. Throws scalelab::Error
// when gnuplot is missing, reports an error, dies, or exceeds the timeout.
GnuplotResult RunGnuplot(const std::string& script, const GnuplotOptions& options = {});

// The terminals this gnuplot offers ("svg", "pngcairo", "pdfcairo", ...); cached per program.
std::vector<std::string> GnuplotTerminals(const GnuplotOptions& options = {});

// "5.4 patchlevel 4"; cached per program.
std::string GnuplotVersion(const GnuplotOptions& options = {});

// Starts `script` in gnuplot without waiting for it (a window that lives on after the caller
// returns). Errors in finding or starting gnuplot are thrown; the script's own output is dropped.
void SpawnGnuplot(const std::string& script, const GnuplotOptions& options = {});

// Parses gnuplot's error output: lines of the form `line N: message` that are not warnings, with
// the script line N quoted. Returns an empty string when stderr holds no error. Exposed for tests.
std::string GnuplotErrors(const std::string& stderr_text, const std::string& script,
                          std::vector<std::string>* warnings);

}  // namespace scalelab::plot

// Test helpers: run a program and capture its output; drive a program through a pseudo-terminal.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace scalelab::testing {

struct ProcessResult {
  int status = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

// Runs argv[0] with arguments, feeding `input` on standard input. `env` entries "K=V" are added.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "",
                          const std::vector<std::string>& env = {});

// Runs `body` in a child process (where it may change what the process may do: limits, user); returns
// the text the body returned, or what it threw.
std::string in_child(const std::function<std::string()>& body);

// Runs `body` in a child process that, when this one runs as root (who may write anywhere), drops to
// nobody first; returns the text the body returned (what it threw, typically), or "cannot drop to
// nobody". For tests of what a user without write access meets.
std::string in_child_without_root(const std::function<std::string()>& body);

// A program on a pseudo-terminal, as a person at a terminal would run it.
class Pty {
 public:
  Pty(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Pty();
  void send(const std::string& keys);
  // Waits until `text` appears in the output after the last match; false on timeout.
  bool expect(const std::string& text, double timeout_seconds = 10);
  void interrupt();  // Ctrl-C, as the terminal sends it
  void signal(int number);  // kill(2) to the program itself (SIGTERM: as kill, timeout or a scheduler sends it)
  int wait(double timeout_seconds = 10);  // exit status; -1 if it did not exit
  const std::string& output() const { return output_; }

 private:
  void pump(double timeout_seconds);
  pid_t pid_ = -1;
  int master_ = -1;
  std::string output_;
  size_t matched_ = 0;
};

// A fresh temporary folder under /tmp, removed with its contents when the test program exits.
std::string temp_dir();
void write_file(const std::string& path, const std::string& text);

}  // namespace scalelab::testing

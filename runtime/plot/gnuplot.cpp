#include "plot/gnuplot.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"

namespace scalelab::plot {

namespace {

bool is_executable(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string install_hint() {
  return str("Install Debian's ", kGnuplotPackage, " (sudo apt-get install ", kGnuplotPackage,
             "; setup.sh installs it), or set SCALELAB_GNUPLOT to a gnuplot program");
}

std::string requested_program(const GnuplotOptions& options, bool* from_environment) {
  *from_environment = false;
  if (!options.program.empty()) return options.program;
  if (const char* env = std::getenv("SCALELAB_GNUPLOT"); env && *env) {
    *from_environment = true;
    return env;
  }
  return "gnuplot";
}

// Closes a file descriptor once.
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemError(str("plot: pipe failed: ", std::strerror(errno)));
  read_end.fd = fds[0];
  write_end.fd = fds[1];
}

// Blocks SIGPIPE in this thread while alive (a write to a gnuplot that already exited then fails
// with EPIPE instead of killing the process), and discards a SIGPIPE raised meanwhile.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      timespec zero{0, 0};
      sigtimedwait(&pipe_set, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

std::vector<char*> make_argv(const std::string& program, const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// In the child: stdin/stdout/stderr from the given descriptors, then exec. Never returns.
[[noreturn]] void exec_child(int in, int out, int err, const std::string& program, std::vector<char*>& argv) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  ::execv(program.c_str(), argv.data());
  const char* message = std::strerror(errno);
  (void)!::write(2, "scalelab: cannot execute gnuplot: ", 34);
  (void)!::write(2, message, std::strlen(message));
  (void)!::write(2, "\n", 1);
  ::_exit(127);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

}  // namespace

void GnuplotOptions::Validate() const {
  if (!(timeout_seconds > 0) || !std::isfinite(timeout_seconds))
    fail("plot: timeout_seconds must be a positive number of seconds (got ", timeout_seconds, ")");
}

std::string GnuplotResult::BriefReport() const {
  std::string report = str("gnuplot (", program, ") ran in ", format_duration(seconds));
  if (!warnings.empty()) report += str(", ", warnings.size(), " warning(s): ", warnings.front());
  return report;
}

std::string FindGnuplot(const GnuplotOptions& options) {
  bool from_environment = false;
  const std::string program = requested_program(options, &from_environment);
  if (program.find('/') != std::string::npos) {
    if (is_executable(program)) return program;
    fail("plot: gnuplot was not found: ", from_environment ? "SCALELAB_GNUPLOT names '" : "'", program,
         "', which is not an executable program. ", install_hint(), ".");
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    if (is_executable(candidate)) return candidate;
  }
  fail("plot: gnuplot was not found (no '", program, "' on PATH", from_environment ? ", as SCALELAB_GNUPLOT asks" : "",
       "). ", install_hint(), ".");
}

std::string GnuplotErrors(const std::string& stderr_text, const std::string& script,
                          std::vector<std::string>* warnings) {
  // RunGnuplot hands gnuplot its script as the file /dev/stdin, so errors read
  // `"/dev/stdin" line 7: undefined variable: foo` with exact line numbers (gnuplot reading its
  // standard input interactively miscounts lines and runs on past errors). Interactive-style
  // errors, where gnuplot echoes the command above a caret, are located through that echo.
  const std::vector<std::string> script_lines = split_lines(script);
  std::string errors, previous, context;
  for (const std::string& raw : split_lines(stderr_text)) {
    std::string line = trim(raw);
    if (line.empty()) continue;
    if (line.rfind("Warning:", 0) == 0 || line.rfind("warning:", 0) == 0) {
      if (warnings) warnings->push_back(trim(line.substr(8)));
      continue;
    }
    if (line.find_first_not_of("^ ") == std::string::npos) {  // the caret under the echoed command
      context = previous;
      continue;
    }
    // Optional `"file", ` prefix, then `line N: message`.
    size_t at = line.find("line ");
    size_t colon = at == std::string::npos ? at : line.find(':', at);
    const bool located = colon != std::string::npos && (at == 0 || line[0] == '"') &&
                         colon > at + 5 &&
                         line.substr(at + 5, colon - at - 5).find_first_not_of("0123456789") == std::string::npos;
    if (!located) {
      previous = line;
      continue;
    }
    std::string message = trim(line.substr(colon + 1));
    if (message.rfind("warning:", 0) == 0) {
      if (warnings) warnings->push_back(trim(message.substr(8)));
      context.clear();
      continue;
    }
    if (!errors.empty()) errors += "\n";
    size_t number = 0;
    if (line[0] == '"') {  // a script read as a file: gnuplot's line numbers are exact
      number = std::stoul(line.substr(at + 5, colon - at - 5));
      if (number > script_lines.size()) number = 0;
      if (number > 0) context = trim(script_lines[number - 1]);
    }
    for (size_t i = 0; i < script_lines.size() && !context.empty() && number == 0; ++i)
      if (trim(script_lines[i]) == context) { number = i + 1; break; }
    if (number > 0) errors += str("script line ", number, ": ", message, "\n    ", context);
    else if (!context.empty()) errors += str(message, "\n    ", context);
    else errors += message;
    context.clear();
    previous.clear();
  }
  return errors;
}

GnuplotResult RunGnuplot(const std::string& script, const GnuplotOptions& options) {
  options.Validate();
  GnuplotResult result;
  result.program = FindGnuplot(options);
  const auto start = std::chrono::steady_clock::now();

  Fd in_read, in_write, out_read, out_write, err_read, err_write;
  make_pipe(in_read, in_write);
  make_pipe(out_read, out_write);
  make_pipe(err_read, err_write);
  std::vector<std::string> arguments = options.arguments;
  arguments.push_back("/dev/stdin");  // read as a script file: stops at the first error, exact lines
  std::vector<char*> argv = make_argv(result.program, arguments);

  SigpipeGuard sigpipe;
  const pid_t pid = ::fork();
  if (pid < 0) throw SystemError(str("plot: fork failed: ", std::strerror(errno)));
  if (pid == 0) exec_child(in_read.fd, out_write.fd, err_write.fd, result.program, argv);
  in_read.close();
  out_write.close();
  err_write.close();
  ::fcntl(in_write.fd, F_SETFL, O_NONBLOCK);

  std::string out, err;
  size_t written = 0;
  if (script.empty()) in_write.close();
  bool timed_out = false, interrupted = false;
  const double deadline = options.timeout_seconds;
  while (out_read.fd >= 0 || err_read.fd >= 0) {
    pollfd fds[3];
    int count = 0;
    int in_index = -1, out_index = -1, err_index = -1;
    if (in_write.fd >= 0) { in_index = count; fds[count++] = {in_write.fd, POLLOUT, 0}; }
    if (out_read.fd >= 0) { out_index = count; fds[count++] = {out_read.fd, POLLIN, 0}; }
    if (err_read.fd >= 0) { err_index = count; fds[count++] = {err_read.fd, POLLIN, 0}; }
    const int ready = ::poll(fds, count, 100);
    if (ready < 0 && errno != EINTR) throw SystemError(str("plot: poll failed: ", std::strerror(errno)));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > deadline) { timed_out = true; break; }
    if (interrupt_requested()) { interrupted = true; break; }
    if (ready <= 0) continue;
    if (in_index >= 0 && fds[in_index].revents) {
      const ssize_t n = ::write(in_write.fd, script.data() + written, script.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == script.size()) in_write.close();
    }
    char buffer[8192];
    for (auto [index, fd, sink] : {std::tuple{out_index, &out_read, &out}, std::tuple{err_index, &err_read, &err}}) {
      if (index < 0 || !fds[index].revents) continue;
      const ssize_t n = ::read(fd->fd, buffer, sizeof buffer);
      if (n > 0) sink->append(buffer, static_cast<size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) fd->close();
    }
  }
  in_write.close();
  if (timed_out || interrupted) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (interrupted) check_interrupt();
  if (timed_out)
    fail("plot: gnuplot did not finish within ", options.timeout_seconds,
         " s and was stopped (a very large data set, or a script that waits for input?); raise timeout");
  result.output = out;
  const std::string errors = GnuplotErrors(err, script, &result.warnings);
  if (!errors.empty()) fail("plot: gnuplot reported an error:\n", errors);
  if (WIFSIGNALED(status)) fail("plot: gnuplot was killed by signal ", WTERMSIG(status), ": ", trim(err));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    fail("plot: gnuplot failed (exit status ", WEXITSTATUS(status), ")", err.empty() ? "" : ": ", trim(err));
  return result;
}

namespace {
std::string query(const std::string& what, const GnuplotOptions& options) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::string> cache;
  const std::string program = FindGnuplot(options);
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(program, what);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  GnuplotOptions run = options;
  run.program = program;
  std::string text = trim(RunGnuplot("set print '-'\nprint " + what + "\n", run).output);
  cache[key] = text;
  return text;
}
}  // namespace

std::vector<std::string> GnuplotTerminals(const GnuplotOptions& options) {
  std::istringstream in(query("GPVAL_TERMINALS", options));
  std::vector<std::string> terminals;
  std::string name;
  while (in >> name) terminals.push_back(name);
  return terminals;
}

std::string GnuplotVersion(const GnuplotOptions& options) {
  return query("sprintf('%.1f patchlevel %s', GPVAL_VERSION, GPVAL_PATCHLEVEL)", options);
}

void SpawnGnuplot(const std::string& script, const GnuplotOptions& options) {
  options.Validate();
  const std::string program = FindGnuplot(options);
  Fd in_read, in_write;
  make_pipe(in_read, in_write);
  std::vector<std::string> arguments = options.arguments;
  arguments.push_back("/dev/stdin");
  std::vector<char*> argv = make_argv(program, arguments);
  SigpipeGuard sigpipe;
  const pid_t pid = ::fork();
  if (pid < 0) throw SystemError(str("plot: fork failed: ", std::strerror(errno)));
  if (pid == 0) {
    // The middle process exits at once, so gnuplot is adopted by init and never becomes a zombie.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    const int null = ::open("/dev/null", O_RDWR);
    exec_child(in_read.fd, null, null, program, argv);
  }
  in_read.close();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  size_t written = 0;
  while (written < script.size()) {
    const ssize_t n = ::write(in_write.fd, script.data() + written, script.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
}

}  // namespace scalelab::plot

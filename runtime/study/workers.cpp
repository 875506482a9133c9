#include "study/workers.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "core/error.h"

extern char** environ;

namespace scalelab::study {

void SpawnOptions::Validate() const {
  if (argv.empty() || argv[0].empty()) fail("spawn: argv must name a program");
  for (const auto& e : env)
    if (e.find('=') == std::string::npos || e[0] == '=') fail("spawn: environment entry '", e, "' is not KEY=VALUE");
}

namespace {

constexpr const char* kLifelineVariable = "SCALELAB_LIFELINE_FD";

// The executor's end of the lifeline: one pipe for all its workers, created on first use. The
// executor keeps the write end open for its whole life and never writes to it; both ends are
// close-on-exec, and each worker clears that flag on its copy of the read end just before exec. When
// the executor dies, the kernel closes the write end and every worker's read end reports a hangup.
int lifeline_read_end() {
  static int read_end = [] {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw SystemError(str("spawn: lifeline pipe failed: ", std::strerror(errno)));
    return ends[0];  // the write end, ends[1], stays open (deliberately never closed)
  }();
  return read_end;
}

}  // namespace

bool watch_lifeline() {
  const char* value = std::getenv(kLifelineVariable);
  if (!value || !*value) return false;
  char* end = nullptr;
  const long fd = std::strtol(value, &end, 10);
  ::unsetenv(kLifelineVariable);  // this process's own children have no lifeline of ours
  if (*end != '\0' || fd < 0 || fd > INT_MAX || ::fcntl(static_cast<int>(fd), F_GETFD) < 0) return false;
  ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  std::thread([fd = static_cast<int>(fd)] {
    for (;;) {
      struct pollfd p {fd, POLLIN, 0};
      const int n = ::poll(&p, 1, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // the descriptor is unusable: stop watching rather than guess
      char byte;
      if (n > 0 && (p.revents & (POLLHUP | POLLERR)) == 0 && ::read(fd, &byte, 1) > 0) continue;  // not ours
      static const char message[] = "scalelab worker: the executor that started this worker has died; stopping\n";
      (void)!::write(STDERR_FILENO, message, sizeof message - 1);
      ::kill(::getpid(), SIGKILL);
    }
  }).detach();
  return true;
}

pid_t spawn(const SpawnOptions& options) {
  options.Validate();
  const int lifeline = options.lifeline ? lifeline_read_end() : -1;
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    bool replaced = key == kLifelineVariable;  // an inherited lifeline is not this worker's
    for (const auto& add : options.env) replaced = replaced || add.compare(0, key.size() + 1, key + "=") == 0;
    if (!replaced) environment.push_back(std::move(entry));
  }
  environment.insert(environment.end(), options.env.begin(), options.env.end());
  if (lifeline >= 0) environment.push_back(str(kLifelineVariable, "=", lifeline));
  std::vector<char*> argv, envp;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const bool self = options.argv[0] == executable_path();  // before any descriptor is opened: it may throw
  int log = -1;
  if (!options.log_path.empty()) {
    log = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) fail("cannot open worker log '", options.log_path, "': ", std::strerror(errno));
  }
  // A pipe that closes on exec tells the parent whether exec succeeded.
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    if (log >= 0) ::close(log);
    throw SystemError(str("spawn: pipe failed: ", std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    if (log >= 0) ::close(log);
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    throw SystemError(str("spawn: fork failed: ", std::strerror(error)));
  }
  if (pid == 0) {
    ::close(status_pipe[0]);
    if (options.death_signal) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    }
    if (lifeline >= 0) ::fcntl(lifeline, F_SETFD, 0);  // the worker keeps its read end across exec
    ::signal(SIGINT, SIG_DFL);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    // This program starts as the file this process runs (/proc/self/exe), not as whatever the path
    // holds now: a rebuild while a study runs must neither stop its workers nor mix two versions.
    ::execve(self ? "/proc/self/exe" : argv[0], argv.data(), envp.data());
    const int error = errno;
    (void)!::write(status_pipe[1], &error, sizeof error);
    ::_exit(127);
  }
  ::close(status_pipe[1]);
  if (log >= 0) ::close(log);
  int error = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof error)) {
    ::waitpid(pid, nullptr, 0);
    fail("cannot start worker '", options.argv[0], "': ", std::strerror(error));
  }
  return pid;
}

std::string ExitStatus::Summary() const {
  if (signal) return str("killed by signal ", signal, " (", strsignal(signal), ")");
  return str("exit ", code);
}

std::optional<ExitStatus> wait_any(bool block) {
  int status = 0;
  pid_t pid;
  do {
    pid = ::waitpid(-1, &status, block ? 0 : WNOHANG);
  } while (pid < 0 && errno == EINTR);
  if (pid <= 0) return std::nullopt;
  ExitStatus out;
  out.pid = pid;
  if (WIFEXITED(status)) out.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return out;
}

bool send_signal(pid_t pid, int signal) { return ::kill(pid, signal) == 0; }

std::string executable_path() {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) throw SystemError(str("cannot find this program's path: ", std::strerror(errno)));
  std::string path(buffer, static_cast<size_t>(n));
  // A program replaced on disk since it started (a rebuild) reads as "<path> (deleted)".
  constexpr char kDeleted[] = " (deleted)";
  constexpr size_t kDeletedLength = sizeof kDeleted - 1;
  if (path.size() > kDeletedLength && path.compare(path.size() - kDeletedLength, kDeletedLength, kDeleted) == 0)
    path.resize(path.size() - kDeletedLength);
  return path;
}

int cpu_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

void sleep_seconds(double seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

int terminal_columns(int fd) {
  struct winsize size {};
  if (!is_terminal(fd) || ::ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

FileLock::~FileLock() { release(); }

bool FileLock::try_acquire(const std::string& path, std::string* holder) {
  release();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot open lock file '", path, "': ", std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (holder) {
      char buffer[64] = {};
      const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
      *holder = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "another process";
      while (!holder->empty() && (holder->back() == '\n' || holder->back() == ' ')) holder->pop_back();
    }
    ::close(fd);
    return false;
  }
  const std::string me = str("pid ", ::getpid(), "\n");
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, me.data(), me.size(), 0);
  fd_ = fd;
  path_ = path;
  return true;
}

void FileLock::release() {
  if (fd_ < 0) return;
  (void)!::ftruncate(fd_, 0);
  ::close(fd_);  // closing the descriptor releases the flock
  fd_ = -1;
}

std::string FileLock::Summary() const {
  return held() ? str("FileLock(", path_, ", held)") : str("FileLock(released)");
}

bool lock_held(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // and with it the shared lock, if taken
  return held;
}

std::string store_lock_path(const std::string& store_path) {
  auto real = [](const std::string& path) -> std::string {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (!resolved) return "";
    std::string out = resolved;
    std::free(resolved);
    return out;
  };
  std::string path = real(store_path);
  if (path.empty()) {
    const size_t slash = store_path.find_last_of('/');
    const std::string folder = real(slash == std::string::npos ? "." : (slash == 0 ? "/" : store_path.substr(0, slash)));
    const std::string name = slash == std::string::npos ? store_path : store_path.substr(slash + 1);
    path = folder.empty() ? store_path : (folder == "/" ? "/" : folder + "/") + name;
  }
  return path + ".lock";
}

}  // namespace scalelab::study

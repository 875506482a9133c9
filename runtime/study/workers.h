// Worker processes for the study executor. One Lua state is single-threaded, so the local executor
// runs small runs in parallel as separate scalelab processes (each re-runs the study script in
// worker mode and trains one run), and coordinates them through the results store. These are the
// process primitives it needs: start a worker with its output in a log file, reap finished ones,
// and hold the store's lock so that two executors never run one study at once.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace scalelab::study {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program (a path)
  std::vector<std::string> env;   // "KEY=VALUE" entries added to (or replacing in) the environment
  std::string log_path;           // stdout and stderr go here (appended); "" keeps the parent's
  // The worker ends when the executor dies, however it dies, by two means: Linux's PR_SET_PDEATHSIG
  // (death_signal), and a lifeline pipe the worker watches once it calls watch_lifeline() (lifeline),
  // for kernels and sandboxes where the death signal never comes. Both are on by default.
  bool death_signal = true;
  bool lifeline = true;
  void Validate() const;
};

// Starts the process; throws scalelab::Error if it cannot be started (the message names argv[0]).
// argv[0] = executable_path() starts this very program, even where its file has been replaced since.
pid_t spawn(const SpawnOptions& options);

struct ExitStatus {
  pid_t pid = 0;
  int code = -1;    // exit code when the process exited
  int signal = 0;   // the signal that killed it, else 0
  bool ok() const { return signal == 0 && code == 0; }
  std::string Summary() const;  // "exit 0", "killed by signal 9 (Killed)"
};

// In a worker: if the environment names a lifeline (SCALELAB_LIFELINE_FD, set by spawn), starts a
// thread that ends this process with SIGKILL, after a line on stderr, as soon as the process that
// spawned it has died (its end of the pipe closes). Returns whether a lifeline is watched. The
// worker's results are stored in transactions, so ending it at any moment loses at most the steps
// since its last checkpoint, as a kill would.
bool watch_lifeline();

// Reaps one finished child of this process. block = false returns nullopt when none has finished;
// block = true waits. Returns nullopt as well when there are no children at all.
std::optional<ExitStatus> wait_any(bool block);

// Sends `signal` to `pid`; false when no such process.
bool send_signal(pid_t pid, int signal);

std::string executable_path();  // this program (/proc/self/exe)
int cpu_count();                 // cores this process may use
void sleep_seconds(double seconds);
double monotonic_seconds();
bool is_terminal(int fd);
int terminal_columns(int fd);    // 0 when not a terminal

// An exclusive advisory lock on `path` (created if needed), held until release or process exit
// (a killed process releases it). try_acquire returns false when another process holds it, and
// `holder` then describes it ("pid 1234").
class FileLock {
 public:
  FileLock() = default;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();
  bool try_acquire(const std::string& path, std::string* holder);
  void release();
  bool held() const { return fd_ >= 0; }
  std::string Summary() const;

 private:
  int fd_ = -1;
  std::string path_;
};

// Whether a process holds the FileLock on `path` now. Creates nothing and takes nothing that outlives
// the call (a shared lock tried and dropped at once); false when there is no such file.
bool lock_held(const std::string& path);

// The lock file of the store at `store_path`: "<the store's real path>.lock", so that every path to
// one store (through a symlink, "..", another working folder) finds the one lock. A store not made
// yet is named by its folder's real path and its own name.
std::string store_lock_path(const std::string& store_path);

}  // namespace scalelab::study

// The study executor's process primitives: a worker must end when its executor dies, even where the
// kernel never sends PR_SET_PDEATHSIG's signal (the lifeline pipe).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "study/workers.h"

using namespace scalelab::study;

namespace {

// True while `pid` exists and is not a zombie.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

bool gone_within(pid_t pid, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (alive(pid) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return !alive(pid);
}

// Forks a stand-in executor that spawns a scalelab worker (which watches its lifeline, then sleeps),
// SIGKILLs the executor once the worker is watching, and returns the worker's pid.
pid_t orphan_a_worker(bool lifeline) {
  int report[2];
  REQUIRE(::pipe(report) == 0);
  const pid_t executor = ::fork();
  REQUIRE(executor >= 0);
  if (executor == 0) {
    ::close(report[0]);
    SpawnOptions options;
    options.argv = {SCALELAB_BINARY, "-e",
                    "local s = require('scalelab.native.study'); print(s.watch_lifeline()); io.stdout:flush(); s.sleep(30)"};
    options.death_signal = false;  // only the lifeline may end the worker
    options.lifeline = lifeline;
    options.log_path = "/dev/null";
    pid_t worker = -1;
    try {
      worker = spawn(options);
    } catch (const std::exception&) {
    }
    (void)!::write(report[1], &worker, sizeof worker);
    ::pause();
    ::_exit(0);
  }
  ::close(report[1]);
  pid_t worker = -1;
  REQUIRE(::read(report[0], &worker, sizeof worker) == static_cast<ssize_t>(sizeof worker));
  ::close(report[0]);
  REQUIRE(worker > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the worker starts and begins watching
  REQUIRE(alive(worker));
  ::kill(executor, SIGKILL);
  ::waitpid(executor, nullptr, 0);
  return worker;
}

}  // namespace

TEST_CASE("a worker whose executor is SIGKILLed stops by itself through its lifeline") {
  const pid_t worker = orphan_a_worker(true);
  const bool gone = gone_within(worker, 5);
  if (!gone) ::kill(worker, SIGKILL);
  CHECK(gone);
}

TEST_CASE("without the lifeline (and no death signal) an orphaned worker would run on") {
  // The control for the test above: it shows the lifeline, not something else, ends the worker.
  const pid_t worker = orphan_a_worker(false);
  const bool gone = gone_within(worker, 1);
  ::kill(worker, SIGKILL);
  CHECK_FALSE(gone);
}

TEST_CASE("a process started without a lifeline in its environment watches none") {
  ::unsetenv("SCALELAB_LIFELINE_FD");
  CHECK_FALSE(watch_lifeline());
  ::setenv("SCALELAB_LIFELINE_FD", "not a number", 1);
  CHECK_FALSE(watch_lifeline());
  CHECK(std::getenv("SCALELAB_LIFELINE_FD") == nullptr);  // consumed: not passed on to children
}

TEST_CASE("a store's lock file is named by the store's real path: every path to one store finds the one lock") {
  char folder_template[] = "/tmp/scalelab-lock-XXXXXX";
  REQUIRE(::mkdtemp(folder_template) != nullptr);
  const std::string folder = folder_template;  // /tmp is no symlink on our machines: checked below
  char* resolved = ::realpath(folder.c_str(), nullptr);
  REQUIRE(resolved != nullptr);
  REQUIRE(std::string(resolved) == folder);
  std::free(resolved);
  REQUIRE(::mkdir((folder + "/sub").c_str(), 0755) == 0);
  // A store not made yet: its folder's real path and its own name.
  CHECK(store_lock_path(folder + "/sub/../x.db") == folder + "/x.db.lock");
  // Made, and reached through a symlink: the file the link names.
  std::ofstream(folder + "/x.db") << "";
  REQUIRE(::symlink("../x.db", (folder + "/sub/link.db").c_str()) == 0);
  CHECK(store_lock_path(folder + "/sub/link.db") == folder + "/x.db.lock");
  CHECK(store_lock_path(folder + "/x.db") == folder + "/x.db.lock");
  // A folder that does not exist: the path as given (opening the store reports that folder).
  CHECK(store_lock_path("no/such/folder/x.db") == "no/such/folder/x.db.lock");
  std::system(("rm -rf '" + folder + "'").c_str());
}

TEST_CASE("lock_held says whether a process holds a lock file now\, whatever pid the file names") {
  char folder_template[] = "/tmp/scalelab-lock-XXXXXX";
  REQUIRE(::mkdtemp(folder_template) != nullptr);
  const std::string path = std::string(folder_template) + "/x.db.lock";
  CHECK_FALSE(lock_held(path));  // no file: nobody holds it, and none is made
  CHECK_FALSE(std::ifstream(path).good());
  {
    FileLock lock;
    std::string holder;
    REQUIRE(lock.try_acquire(path, &holder));
    CHECK(lock_held(path));
    // Another process asks as well as this one.
    const pid_t child = ::fork();
    if (child == 0) ::_exit(lock_held(path) ? 0 : 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  // Released, or left by a killed process naming a pid that lives on (init's): not held.
  std::ofstream(path) << "pid 1\n";
  CHECK_FALSE(lock_held(path));
  // Asking took nothing: the lock can be taken at once.
  FileLock again;
  std::string holder;
  CHECK(again.try_acquire(path, &holder));
  again.release();
  std::system(("rm -rf '" + std::string(folder_template) + "'").c_str());
}

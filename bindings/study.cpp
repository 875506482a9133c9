// Lua module scalelab.native.study: what the study executor needs from the operating system
// (runtime/study/workers.h): worker processes, the store lock, clocks, terminals, folders.
#include <lua.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "core/interrupt.h"
#include "store/store.h"
#include "study/workers.h"

namespace scalelab::lua {

template <>
struct TypeName<study::FileLock> {
  static constexpr const char* value = "scalelab.FileLock";
};

namespace {

std::vector<std::string> strings(lua_State* L, int index, const std::string& what) {
  std::vector<std::string> out;
  if (lua_isnil(L, index)) return out;
  if (!lua_istable(L, index)) fail(what, " must be an array of strings (got ", got_type(L, index), ")");
  const lua_Integer n = luaL_len(L, index);
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_geti(L, index, i) != LUA_TSTRING && !lua_isnumber(L, -1))
      fail(what, "[", i, "] must be a string (got ", got_type(L, -1), ")");
    out.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return out;
}

int spawn(lua_State* L) {
  Args args(L, 1, "spawn", {"argv", "env", "log", "die_with_parent"});
  study::SpawnOptions options;
  args.push("argv");
  options.argv = strings(L, -1, "spawn: argv");
  lua_pop(L, 1);
  args.push("env");
  options.env = strings(L, -1, "spawn: env");
  lua_pop(L, 1);
  options.log_path = args.string("log", "");
  options.death_signal = options.lifeline = args.boolean("die_with_parent", true);
  lua_pushinteger(L, study::spawn(options));
  return 1;
}

// wait(block) -> pid, code, signal  (nil when no child has finished)
int wait(lua_State* L) {
  auto status = study::wait_any(lua_toboolean(L, 1));
  if (!status) return 0;
  lua_pushinteger(L, status->pid);
  lua_pushinteger(L, status->code);
  lua_pushinteger(L, status->signal);
  return 3;
}

int kill(lua_State* L) {
  // Checked before narrowing: a pid of 2^32 + 1 would become 1 (init) as a pid_t.
  const lua_Integer pid = luaL_checkinteger(L, 1);
  const lua_Integer signal = luaL_optinteger(L, 2, SIGTERM);
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max())
    fail("kill: pid must be a process id, 1..", std::numeric_limits<pid_t>::max(), " (got ", pid, ")");
  if (signal < 0 || signal > 64) fail("kill: signal must be 0..64 (got ", signal, ")");
  lua_pushboolean(L, study::send_signal(static_cast<pid_t>(pid), static_cast<int>(signal)));
  return 1;
}

int executable(lua_State* L) {
  lua_pushstring(L, study::executable_path().c_str());
  return 1;
}

int cpu_count(lua_State* L) {
  lua_pushinteger(L, study::cpu_count());
  return 1;
}

int sleep(lua_State* L) {
  study::sleep_seconds(luaL_checknumber(L, 1));
  return 0;
}

int clock(lua_State* L) {
  lua_pushnumber(L, study::monotonic_seconds());
  return 1;
}

int now(lua_State* L) {
  using namespace std::chrono;
  lua_pushnumber(L, duration<double>(system_clock::now().time_since_epoch()).count());
  return 1;
}

int watch_lifeline(lua_State* L) {
  lua_pushboolean(L, study::watch_lifeline());
  return 1;
}

// In a worker: a second SIGINT while the first is handled does nothing (core/interrupt.h).
int take_one_interrupt(lua_State*) {
  set_repeated_interrupt_kills(false);
  return 0;
}

int getpid(lua_State* L) {
  lua_pushinteger(L, ::getpid());
  return 1;
}

// writable(path) -> true, or false and why (access(2) with W_OK: the mode bits for this user, a
// read-only file system), without making or changing anything there.
int writable(lua_State* L) {
  const char* path = luaL_checkstring(L, 1);
  if (::access(path, W_OK) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  const int error = errno;
  lua_pushboolean(L, 0);
  lua_pushstring(L, std::strerror(error));
  return 2;
}

int stream_fd(lua_State* L, int index) {
  const std::string name = luaL_optstring(L, index, "stdout");
  if (name == "stdout") return STDOUT_FILENO;
  if (name == "stderr") return STDERR_FILENO;
  if (name == "stdin") return STDIN_FILENO;
  fail("expected 'stdout', 'stderr' or 'stdin' (got '", name, "')");
}

int isatty(lua_State* L) {
  lua_pushboolean(L, study::is_terminal(stream_fd(L, 1)));
  return 1;
}

int columns(lua_State* L) {
  lua_pushinteger(L, study::terminal_columns(stream_fd(L, 1)));
  return 1;
}

// make_dirs(path): mkdir -p.
int make_dirs(lua_State* L) {
  const std::string path = luaL_checkstring(L, 1);
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      fail("cannot create folder '", prefix, "': ", std::strerror(errno));
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) fail("'", path, "' is not a folder");
  return 0;
}

// relative_path(path, folder) -> path as seen from folder (both from this process's folder, symlinks
// resolved where they exist), or path made absolute when no relative path leads there.
int relative_path(lua_State* L) {
  namespace fs = std::filesystem;
  // A path that cannot be resolved (a folder this process may not search) is taken as written, made
  // absolute and normalised, so that a report never fails for the sake of a path it only mentions.
  const auto real = [](const char* path) {
    std::error_code error;
    fs::path out = fs::absolute(path, error);
    if (error) out = fs::path(path);
    fs::path resolved = fs::weakly_canonical(out, error);
    out = error ? out.lexically_normal() : resolved;
    return out.has_filename() || out == out.root_path() ? out : out.parent_path();
  };
  const fs::path target = real(luaL_checkstring(L, 1));
  const fs::path relative = target.lexically_relative(real(luaL_checkstring(L, 2)));
  lua_pushstring(L, (relative.empty() ? target : relative).c_str());
  return 1;
}

// list_dir(path) -> the names of the entries in the folder (sorted, without "." and ".."), or nil
// and why it cannot be read.
int list_dir(lua_State* L) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<std::string> names;
  for (fs::directory_iterator entry(luaL_checkstring(L, 1), error), end; !error && entry != end;
       entry.increment(error))
    names.push_back(entry->path().filename().string());
  if (error) {
    lua_pushnil(L);
    lua_pushstring(L, error.message().c_str());
    return 2;
  }
  std::sort(names.begin(), names.end());
  lua_createtable(L, static_cast<int>(names.size()), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    lua_pushlstring(L, names[i].data(), names[i].size());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int write_file(lua_State* L) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 2, &length);
  store::write_file_atomically(luaL_checkstring(L, 1), std::string(text, length));
  return 0;
}

// lock(path) -> FileLock, or nil and a description of the holder.
int lock(lua_State* L) {
  study::FileLock lock;
  std::string holder;
  if (!lock.try_acquire(luaL_checkstring(L, 1), &holder)) {
    lua_pushnil(L);
    lua_pushstring(L, holder.c_str());
    return 2;
  }
  push(L, std::move(lock));
  return 1;
}

int lock_held(lua_State* L) {
  lua_pushboolean(L, study::lock_held(luaL_checkstring(L, 1)));
  return 1;
}

// store_lock_path(store) -> the path of the store's lock file (study/workers.h).
int store_lock_path(lua_State* L) {
  lua_pushstring(L, study::store_lock_path(luaL_checkstring(L, 1)).c_str());
  return 1;
}

int release(lua_State* L) {
  check<study::FileLock>(L, 1).release();
  return 0;
}

int held(lua_State* L) {
  lua_pushboolean(L, check<study::FileLock>(L, 1).held());
  return 1;
}

}  // namespace

int open_study(lua_State* L) {
  Class<study::FileLock>::define(L, "An exclusive lock on a file, released by :release() or when the process ends.",
                                 {{"release", &bound<release>, "lock:release()"}},
                                 {{"held", &bound<held>, "true while held"}});
  new_module(
      L, "Operating-system primitives of the study executor.",
      {{"spawn", &bound<spawn>,
        "spawn{ argv = {...}, env = {'K=V', ...}, log = path, die_with_parent = true } -> pid"},
       {"wait", &bound<wait>, "wait(block) -> pid, exit code, signal of a finished child; nothing if none"},
       {"kill", &bound<kill>, "kill(pid [, signal = SIGTERM]) -> true if sent"},
       {"executable", &bound<executable>, "executable() -> the path of this scalelab program"},
       {"cpu_count", &bound<cpu_count>, "cpu_count() -> cores this process may use"},
       {"sleep", &bound<sleep>, "sleep(seconds)"},
       {"clock", &bound<clock>, "clock() -> monotonic seconds, for durations"},
       {"now", &bound<now>, "now() -> seconds since the epoch, with fractions"},
       {"getpid", &bound<getpid>, "getpid() -> this process's id"},
       {"writable", &bound<writable>, "writable(path) -> true, or false and why: whether this user may write path"},
       {"watch_lifeline", &bound<watch_lifeline>,
        "watch_lifeline() -> true if this worker now ends itself when the executor that spawned it dies"},
       {"take_one_interrupt", &bound<take_one_interrupt>,
        "take_one_interrupt(): in a worker, a SIGINT after the first, while it stops, does nothing (the terminal's "
        "Ctrl-C and its executor's both reach it; a second would kill it while it writes its checkpoint)"},
       {"isatty", &bound<isatty>, "isatty('stdout' | 'stderr' | 'stdin') -> true on a terminal"},
       {"columns", &bound<columns>, "columns('stdout') -> terminal width, 0 when not a terminal"},
       {"make_dirs", &bound<make_dirs>, "make_dirs(path): creates the folder and its parents"},
       {"list_dir", &bound<list_dir>,
        "list_dir(path) -> the names in the folder, sorted (without . and ..), or nil and why it cannot be read"},
       {"write_file", &bound<write_file>, "write_file(path, text): through a temporary file and a rename"},
       {"relative_path", &bound<relative_path>,
        "relative_path(path, folder) -> path from folder (symlinks resolved), or absolute where none leads there"},
       {"lock", &bound<lock>, "lock(path) -> FileLock, or nil and who holds it"},
       {"lock_held", &bound<lock_held>,
        "lock_held(path) -> true while a process holds the lock on path (lock(path)); creates and takes nothing"},
       {"store_lock_path", &bound<store_lock_path>,
        "store_lock_path(store) -> the store's lock file: its real path (symlinks resolved) .. \".lock\""}});
  return 1;
}

}  // namespace scalelab::lua

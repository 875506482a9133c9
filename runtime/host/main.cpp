// scalelab: the program. Conventions of lua.c and Torch's th:
//   scalelab script.lua [args]   runs the script, arguments in 'arg'
//   scalelab                     the REPL on a terminal; otherwise runs standard input
//   scalelab -                   runs standard input
// Exit status: 0 success, 1 script error (message and traceback on stderr), 2 bad usage, 3 a script
// that ran to its end but whose study left a question unanswered or a fit not fitted (its runs and
// reports written; the last lines on stderr say which and why), 130 a script stopped by Ctrl-C, 143
// by SIGTERM; scalelab results whose reader went away (| head) ends by SIGPIPE, as cat.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/version.h"
#include "host/host.h"

namespace {

const char kUsage[] =
    "usage: scalelab [options] [script [args]]\n"
    "       scalelab results FILE.db [--study NAME] [--status S] [--csv PATH] [--json PATH] [--curves PATH]\n"
    "                    list or export the runs of a study's results store (scalelab results -h)\n"
    "Options:\n"
    "  -e stmt        run the Lua statement 'stmt'\n"
    "  -i             enter the REPL after running the script (also when it fails)\n"
    "  -l mod         require module 'mod' into global 'mod' (or -l name=mod)\n"
    "  -v, --version  print the version\n"
    "  -h, --help     print this help\n"
    "  --             stop handling options\n"
    "  -              run standard input and stop handling options\n"
    "Environment:\n"
    "  SCALELAB_STDLIB  read the Lua library from this folder (a source tree's stdlib/) instead of\n"
    "                   the copy built into the program\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "scalelab: %s\n%s", message.c_str(), kUsage);
  return 2;
}

void print_version() { std::printf("scalelab %s (%s)\n", SCALELAB_VERSION, LUA_RELEASE); }

// The exit status of a program run whose statements and script ran to their end: 3 where a study
// they ran left a question unanswered or a fit not fitted (scalelab.study's exit_status says which on
// stderr), else 0. A run that loaded no study is 0 without loading one.
// Read from the registry's package.loaded, not through globals: a script that named a global of its
// own `type` or `package` (type = "markov") ended with "exit status:2: attempt to call a string value".
int finished_status(scalelab::host::Host& host) {
  lua_State* L = host.state();
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushliteral(L, "scalelab.study");
  const bool loaded = lua_rawget(L, -2) == LUA_TTABLE;  // raw: no metamethod runs unprotected
  if (loaded) lua_pushliteral(L, "exit_status");
  const bool has = loaded && lua_rawget(L, -2) == LUA_TFUNCTION;
  if (!has) {
    lua_pop(L, loaded ? 3 : 2);
    return 0;
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
  if (host.call(0, 1) != LUA_OK) {
    host.report();
    return host.failed_status();
  }
  const int status = lua_isinteger(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : 0;
  lua_pop(L, 1);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv, argv + argc);
  // Subcommands are Lua modules: scalelab results FILE.db -> scalelab.results.main(arg).
  if (argc >= 2 && all[1] == "results") {
    // A reader that stops early (scalelab results q.db | head) must not kill the program while the
    // store is open: SQLite would leave q.db-shm and q.db-wal beside it. With SIGPIPE ignored, a
    // write to the closed pipe fails (EPIPE); results.main then closes the store and returns
    // kClosedPipe, and the program ends as SIGPIPE ends cat: quietly, by that signal.
    constexpr int kClosedPipe = 128 + SIGPIPE;  // results.CLOSED_PIPE
    std::signal(SIGPIPE, SIG_IGN);
    int status = 1;
    try {
      scalelab::host::Host host;
      host.set_arg(all, 1);
      // results.main returns the exit status: 0, 1 (the store cannot be read), 2 (bad usage).
      lua_State* L = host.state();
      const char code[] = "return require('scalelab.results').main(arg)";
      if (luaL_loadbuffer(L, code, sizeof code - 1, "=results") != LUA_OK || host.call(0, 1) != LUA_OK) {
        host.report();
        return host.failed_status();
      }
      status = lua_isinteger(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : 0;
      lua_pop(L, 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "scalelab: %s\n", e.what());
      return 1;
    }
    // The Lua state is closed (and with it anything still open) before the program ends.
    if (status == kClosedPipe) {
      std::signal(SIGPIPE, SIG_DFL);
      std::raise(SIGPIPE);
    }
    return status;
  }
  std::vector<std::pair<char, std::string>> actions;  // -e and -l, in order
  bool interactive = false, version = false;
  int script = 0;  // index of the script in argv, 0 if none
  for (int i = 1; i < argc; ++i) {
    const std::string a = all[i];
    if (a == "--") {
      if (i + 1 < argc) script = i + 1;
      break;
    }
    if (a == "-") {
      script = i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      script = i;
      break;
    }
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "-i") {
      interactive = true;
    } else if (a == "-v" || a == "--version") {
      version = true;
    } else if (a == "-e" || a == "-l") {
      if (i + 1 >= argc) return usage_error("'" + a + "' needs an argument");
      actions.emplace_back(a[1], all[++i]);
    } else if ((a.rfind("-e", 0) == 0 || a.rfind("-l", 0) == 0) && a.size() > 2) {
      actions.emplace_back(a[1], a.substr(2));
    } else {
      return usage_error("unrecognized option '" + a + "'");
    }
  }

  try {
    scalelab::host::Host host;
    host.set_arg(all, script > 0 ? script : 0);
    if (version) print_version();
    // With -i, an error in a statement or the script (reported above) still opens the REPL, as
    // python -i does, to inspect what the script left; what follows the error is not run, and the
    // exit status stays 1. Ctrl-C still ends the program (status 130).
    bool failed = false;
    for (const auto& [kind, value] : actions) {
      bool ok = kind == 'e' ? host.run_string(value, "=(command line)") : host.require(value);
      if (!ok) {
        if (host.interrupted() || !interactive) return host.failed_status();
        failed = true;
        break;
      }
    }
    if (script > 0 && !failed) {
      std::vector<std::string> args(all.begin() + script + 1, all.end());
      if (!host.run_file(all[script], args)) {
        if (host.interrupted() || !interactive) return host.failed_status();
        failed = true;
      }
    }
    if (interactive) {
      host.repl();
      if (host.terminated()) return host.interrupted_status();
      if (failed) return 1;
    } else if (script == 0 && actions.empty() && !version) {
      if (isatty(STDIN_FILENO)) {
        print_version();
        // Where to start, for someone who has only typed `scalelab` (as lua's banner and trepl's say).
        std::printf("help() lists the modules, help(x) documents x; Tab completes, Ctrl-C interrupts, Ctrl-D leaves\n");
        host.repl();
        if (host.terminated()) return host.interrupted_status();
        return 0;  // as after -i: the REPL's user has read each study's report at the prompt
      } else if (!host.run_file("-", {})) {
        return host.failed_status();
      }
    }
    // A REPL session (-i) ends 0 as before: its user has read each study's report at the prompt.
    if (!interactive) return finished_status(host);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scalelab: %s\n", e.what());
    return 1;
  }
  return 0;
}

// The Lua host: one lua_State with the standard libraries, scalelab's native modules and its Lua
// library (embedded, or read from $SCALELAB_STDLIB for development), and the conventions of lua.c
// for running code: a traceback on every error, Ctrl-C interrupting the computation.
#pragma once

#include <csignal>

#include <lua.hpp>

#include <string>
#include <vector>

namespace scalelab::host {

// Gives a syntax error on the stack top at a character outside ASCII (Lua names its first byte:
// "near '<\207>'") the character and what Lua takes instead. `source`: the text compiled.
void explain_non_ascii(lua_State* L, const std::string& source);

// Whether the value at `index` can be called: a function, or a value whose metatable has __call.
bool callable(lua_State* L, int index);

class Host {
 public:
  // Opens the state, registers the natives and the stdlib searcher, and loads "scalelab" (which
  // sets the global modules and help). Throws scalelab::SystemError if that fails.
  Host();
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  lua_State* state() const { return L_; }

  // Each returns true on success; on failure the message and traceback have been reported on
  // stderr as "scalelab: file:line: message\nstack traceback: ...".
  bool run_file(const std::string& path, const std::vector<std::string>& args);  // "-" = stdin
  bool run_string(const std::string& code, const std::string& chunkname);
  bool require(const std::string& spec);  // "mod" or "name=mod", as lua -l

  // Loads and runs the chunk on the stack top with nargs arguments below it ... like lua.c's docall:
  // a message handler adds the traceback; SIGINT during the call interrupts it. Returns the
  // lua_pcall status; on failure the message is left on the stack.
  int call(int nargs, int nresults);

  // True when the last call failed because of Ctrl-C or SIGTERM: the program then exits with
  // interrupted_status(), 128 + the signal (130, 143), as a shell expects of a command the signal ended.
  bool interrupted() const { return interrupted_; }
  int interrupted_status() const { return 128 + (stop_signal_ != 0 ? stop_signal_ : SIGINT); }
  // The exit status of a failed call: interrupted_status() when a signal ended it, else 1.
  int failed_status() const { return interrupted_ ? interrupted_status() : 1; }
  // True when SIGTERM arrived during the last call, whether or not the call failed (train.run in the
  // REPL returns its stopped run): the session ends after it.
  bool terminated() const { return stop_signal_ == SIGTERM; }

  // Prints "scalelab: <message on the stack top>" to stderr and pops it; in the REPL (prefixed =
  // false) the message alone, as lua.c's REPL does: the user knows which program answers.
  void report(bool prefixed = true);

  // Puts the script's folder first on package.path.
  void add_script_dir(const std::string& script_path);

  // Sets the global 'arg' table as lua.c does: arg[0] = script, arg[1..] = its arguments,
  // negative indices for the program and its options.
  void set_arg(const std::vector<std::string>& argv, int script_index);

  // The interactive loop (runtime/host/repl.cpp). While it runs, Ctrl-C ends only the computation
  // in progress (core/interrupt.h's interrupt_ends_script is false); a script's Ctrl-C ends the script.
  void repl();

 private:
  lua_State* L_;
  bool interrupted_ = false;
  int stop_signal_ = 0;  // the signal that arrived during the last call, 0 if none
};

}  // namespace scalelab::host

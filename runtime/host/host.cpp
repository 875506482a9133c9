#include "host/host.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "host/embedded.h"

namespace scalelab::host {

namespace {

lua_State* g_running = nullptr;  // the state whose call SIGINT or SIGTERM should interrupt
volatile std::sig_atomic_t g_signal_seen = 0;  // the signal (SIGINT, SIGTERM) that arrived during the current call
// The hook raised the interruption as a Lua error during the current call: when another signal
// comes while it is pending, Lua code caught that error and went on (a pcall in a loop).
volatile std::sig_atomic_t g_raised = 0;
// The interruption unwinds the whole call: the hook raises it at every instruction of Lua code until
// the call ends, so that no pcall keeps it (set by a second signal after Lua code caught the first).
volatile std::sig_atomic_t g_unwinding = 0;
// In the REPL, a Ctrl-C repeated before the computation stopped on the first has been answered (once a call).
volatile std::sig_atomic_t g_said_stopping = 0;

// The coroutines being resumed now, outermost first (coroutine.resume and coroutine.wrap's
// functions record theirs): Lua hooks are per thread, and a pure-Lua loop inside a coroutine runs on
// that coroutine's, so Ctrl-C arms the hook of each of them as well as the main thread's. Written
// outside the signal handler (the entry before the depth), read in it.
constexpr int kMaxResumed = 256;  // deeper nesting than Lua's C stack allows (LUAI_MAXCCALLS 200)
lua_State* volatile g_resumed[kMaxResumed];  // volatile: written before the depth, in that order
volatile std::sig_atomic_t g_resumed_depth = 0;

class Resuming {
 public:
  explicit Resuming(lua_State* co) {
    if (g_resumed_depth < kMaxResumed) g_resumed[g_resumed_depth] = co;
    g_resumed_depth = g_resumed_depth + 1;
  }
  ~Resuming() { g_resumed_depth = g_resumed_depth - 1; }  // also when a Lua error unwinds (C++ build)
  Resuming(const Resuming&) = delete;
  Resuming& operator=(const Resuming&) = delete;
};

// Called by Lua at the next instruction of an armed thread after SIGINT: raise the interruption as
// a Lua error, unless a C++ computation that stops cleanly by itself has deferred it (core/
// interrupt.h's DeferInterrupt): then the request stays for that computation to see, and the hook
// stays armed for the Lua code after it. Each armed thread raises once (a coroutine.resume that
// catches its coroutine's error does not end the interruption: the resuming thread raises too),
// until the interruption is settled (the call ends, or train.run stopped cleanly on it). While the
// call unwinds (g_unwinding), each armed thread raises at every instruction, its hook left in place:
// a pcall that catches the error returns to Lua code that raises it again, up to the host's call.
void interrupt_hook(lua_State* L, lua_Debug*) {
  if (!interrupt_pending()) {  // settled, or armed after its coroutine returned: nothing to raise
    lua_sethook(L, nullptr, 0, 0);
    return;
  }
  if (interrupt_deferred()) return;
  if (!g_unwinding) {
    lua_sethook(L, nullptr, 0, 0);
    clear_interrupt();
  }
  g_raised = 1;
  // Located where the computation was: at the first frame of the user's code from the running
  // function down. luaL_error's level 1 is the running function's caller, so a loop in the user's
  // function that a library function called (sweep.filter(s, function(p) ... end)) was
  // "stdlib/scalelab/sweep.lua:387: interrupted!", and one in the user's f() named the line calling f.
  lua_Debug ar;
  for (int level = 0; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (std::strcmp(ar.what, "C") == 0 || lua::library_source(ar.source) || ar.currentline <= 0) continue;
    lua_pushfstring(L, "%s:%d: interrupted!", ar.short_src, ar.currentline);
    lua_error(L);
  }
  lua_pushliteral(L, "interrupted!");
  lua_error(L);
}

void arm(lua_State* L) { lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1); }

// Arms the hook of the running state and of each coroutine being resumed.
void arm_all() {
  if (!g_running) return;
  arm(g_running);
  const int depth = g_resumed_depth;
  for (int i = 0; i < depth && i < kMaxResumed; ++i)
    if (g_resumed[i]) arm(g_resumed[i]);  // null: coroutine.resume given no coroutine, about to say so
}

// SIGINT (Ctrl-C) and SIGTERM (kill, timeout, a scheduler ending the job) alike: the computation
// stops cleanly, a training run writing its checkpoint, rather than the process dying mid-step.
// A second signal while the first is still pending:
//   - after Lua code caught the first's error and went on (a pcall in a loop: `for i = 1, 1e9 do
//     pcall(f) end`), unwinds the whole call (g_unwinding): no pcall keeps it, and the REPL returns
//     to its prompt with its session intact (this second Ctrl-C killed the process, as lua.c's does,
//     and everything computed in the session with it; a third one caught again went on);
//   - where the first has not reached Lua code (a C++ computation that has not stopped on it), or
//     the unwinding has raised nothing yet, kills the process, as lua.c's does: the person's way
//     out of a computation that does not stop; in the REPL it leaves the computation to stop and
//     says so (Ctrl-\ is the way out there), as the session holds what was done.
// One after the first was settled (train.run stopped on it and returned its result, and the line
// goes on) is a new first one: the REPL's session must not die of the Ctrl-C that stops the next
// thing the line does.
void on_stop_signal(int signal) {
  if (g_signal_seen && (interrupt_pending() || !repeated_interrupt_kills())) {
    if (!repeated_interrupt_kills()) return;  // a study's worker, stopping already (core/interrupt.h)
    if (g_raised && g_running) {
      g_raised = 0;  // a third signal before the unwinding raises anything kills, as below
      g_unwinding = 1;
      request_interrupt(signal);  // C++ loops that the Lua code calls stop too
      arm_all();
      return;
    }
    // In the REPL (Ctrl-C ends the computation, not the program), a C++ computation that has not
    // yet stopped on the first (train.run finishing its step, a fit its resample, a data source
    // train.run calls back) is left to stop: the second Ctrl-C of someone who pressed it again while
    // waiting killed the program, and with it the session and every model, run and fit it held.
    // Said once; Ctrl-\ (SIGQUIT) still ends the program at once.
    if (signal == SIGINT && !interrupt_ends_script()) {
      if (!g_said_stopping) {
        g_said_stopping = 1;
        static const char note[] =
            "\n(Ctrl-C again: still stopping, at the computation's next check; the session is kept. Ctrl-\\ ends the "
            "program at once, and the session with it)\n";
        const ssize_t written = ::write(STDERR_FILENO, note, sizeof note - 1);  // async-signal-safe
        (void)written;
      }
      return;
    }
    std::signal(signal, SIG_DFL);
    std::raise(signal);  // delivered, with its default action, as the handler returns
    return;
  }
  g_signal_seen = signal;
  g_raised = 0;
  g_unwinding = 0;
  request_interrupt(signal);     // for C++ loops (core/interrupt.h)
  arm_all();
}

// coroutine.resume and the functions coroutine.wrap makes, as Lua's own (upvalue 1), recording the
// coroutine they resume for on_stop_signal.
int resume_recorded(lua_State* L) {
  luaL_argexpected(L, lua_isthread(L, 1), 1, "coroutine");  // here, so the error names coroutine.resume
  Resuming resuming(lua_tothread(L, 1));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int call_wrapped_recorded(lua_State* L) {
  {
    Resuming resuming(lua_tothread(L, lua_upvalueindex(2)));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0) == LUA_OK) return lua_gettop(L);
  }
  // As Lua's own wrap does, a message is prefixed with where the function was called: Lua's, called
  // from here, found a C function there and added nothing.
  if (lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

int wrap_recorded(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);  // here, so the error names coroutine.wrap
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);  // Lua's wrap: a function whose upvalue 1 is the coroutine
  if (lua_getupvalue(L, -1, 1) == nullptr || !lua_isthread(L, -1)) return 1;  // another Lua: as it is
  lua_pushcclosure(L, call_wrapped_recorded, 2);
  return 1;
}

void record_resumes(lua_State* L) {
  lua_getglobal(L, "coroutine");
  lua_getfield(L, -1, "resume");
  lua_pushcclosure(L, resume_recorded, 1);
  lua_setfield(L, -2, "resume");
  lua_getfield(L, -1, "wrap");
  lua_pushcclosure(L, wrap_recorded, 1);
  lua_setfield(L, -2, "wrap");
  lua_pop(L, 1);
}

// Whether `text` starts with ":<digits>:", the line of a "file:line:" position after its file.
bool starts_with_line(const char* text) {
  if (*text != ':') return false;
  const char* end = text + 1;
  while (*end >= '0' && *end <= '9') ++end;
  return end != text + 1 && *end == ':';
}

// The level at which the traceback of `message` starts. An error that scalelab's library raised
// about the user's call and located in the user's script ("stdin:1: ...", "run.lua:3: ...": at the
// file of the first frame outside the library, with only the library's and C frames above it; at
// that frame's line, or at the line of the key at fault a few lines below it, as the study checks
// locate a bad key of a multi-line table) starts at the library function the user called, or at
// the user's own frame when the traceback cannot name that function (it was reached by a tail call,
// which leaves "(...tail calls...)", or it is an anonymous closure, which shows only the library's
// file): the frames inside the library say nothing to the user. Every other error (in the user's
// own functions, or located inside the library) keeps all its frames. When the traceback starts at
// a Lua function of the library, *library_frame is set to its location as the traceback writes it.
//
// A library function in Lua that users call goes through a C function (core.keep_caller), which the
// traceback shows as that function: "[scalelab]", and, where Lua finds no global name for it (only
// "in field 'isoflop'": the user removed its module from package.loaded), *library_name is set to
// the name its documentation gives it ("plot.isoflop").
int traceback_level(lua_State* L, const char* message, std::string* library_frame, std::string* library_name) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (std::strcmp(ar.what, "C") == 0 || lua::library_source(ar.source)) continue;
    if (ar.currentline <= 0 || level == 1) return 1;
    // "<file>:<line>:" with the user's file.
    const size_t n = std::strlen(ar.short_src);
    if (std::strncmp(message, ar.short_src, n) != 0 || !starts_with_line(message + n)) return 1;
    lua_Debug callee;
    if (!lua_getstack(L, level - 1, &callee) || !lua_getinfo(L, "Slntf", &callee)) return level;
    const bool kept = lua::keeps_caller(L, -1);  // the C function before a library function in Lua
    if (kept && library_name) {
      lua::push_docs(L);
      lua_pushvalue(L, -2);
      if (const char* doc = lua_rawget(L, -2) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr) {
        const std::string head(doc, std::strcspn(doc, "({ \n"));
        const size_t dot = head.rfind('.');
        if (dot != std::string::npos && callee.name && head.compare(dot + 1, std::string::npos, callee.name) == 0)
          *library_name = head;
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    const bool named = callee.namewhat && *callee.namewhat;
    if (callee.istailcall || !named) return level;
    // A function of the library written in Lua shows as the user calls it, as a C function shows:
    // "[scalelab]: in function 'sweep.grid'", not the library's file and line, nor "[C]" for the C
    // function that calls it (core.keep_caller).
    if (library_frame && kept) *library_frame = "\n\t[C]:";
    if (library_frame && std::strcmp(callee.what, "C") != 0 && callee.currentline > 0)
      *library_frame = std::string("\n\t") + callee.short_src + ":" + std::to_string(callee.currentline) + ":";
    return level - 1;
  }
  return 1;
}

// The string keys of the table at `index` that could be names typed for it (no "__" metamethods).
std::vector<std::string> names_in(lua_State* L, int index) {
  index = lua_absindex(L, index);
  std::vector<std::string> names;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      std::string name = lua_tostring(L, -2);
      if (name.rfind("__", 0) != 0) names.push_back(std::move(name));
    }
    lua_pop(L, 1);
  }
  return names;
}

// The string field `key` of the table at `index`, read rawly (no metamethod runs in the message
// handler), or "" when it is not a string.
std::string raw_string(lua_State* L, int index, const char* key) {
  lua_pushstring(L, key);
  const bool is_string = lua_rawget(L, index) == LUA_TSTRING;
  std::string value = is_string ? lua_tostring(L, -1) : "";
  lua_pop(L, 1);
  return value;
}

constexpr char kMissing[] = "scalelab.missing";  // the last name a module or class lacked (scalelab/missing.lua)

// Forgets the last miss scalelab.missing noted: a later error cannot be about it.
void forget_miss(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kMissing) == LUA_TTABLE) {
    lua_pushnil(L);
    lua_setfield(L, -2, "key");  // the record is a plain table: no metamethod runs
  }
  lua_pop(L, 1);
}

// What to add to Lua's message about a nil read by a name that does not exist, so that it says the
// name meant: "attempt to call a nil value (field 'rnu')" after train.rnu{...} (a miss that
// scalelab.missing noted in the module train) gets "; did you mean 'train.run'?", and so does
// "(global 'trian')" ("train"), or "(method 'mapp')" on a Sweep ("map"). "" when none applies.
std::string missing_name_hint(lua_State* L, const std::string& message) {
  static const std::string nil_value = " a nil value (";
  const size_t at = message.rfind(nil_value);
  if (at == std::string::npos || message.size() < 2 || message.compare(message.size() - 2, 2, "')") != 0) return "";
  const std::string what = message.substr(at + nil_value.size(), message.size() - 2 - at - nil_value.size());
  const size_t quote = what.find(" '");
  if (quote == std::string::npos) return "";
  const std::string kind = what.substr(0, quote), name = what.substr(quote + 2);
  if (name.empty() || name.find('\'') != std::string::npos) return "";
  lua_checkstack(L, 8);
  const int top = lua_gettop(L);
  std::string hint;
  if (kind == "global" && (name == "exit" || name == "quit")) {
    // exit() and quit(), as python leaves, were told "did you mean 'next'?" and "'fit'?".
    return "; Lua leaves with os.exit() (and the REPL with Ctrl-D too)";
  }
  if (kind == "global") {
    // A short name is near too many others to guess from ('x' is two edits from 'os').
    if (name.size() < 4) return "";
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    const std::string near = closest_name(name, names_in(L, -1));
    if (!near.empty()) hint = "; did you mean '" + near + "'?";
  } else if ((kind == "field" || kind == "method") && lua_getfield(L, LUA_REGISTRYINDEX, kMissing) == LUA_TTABLE) {
    const int record = lua_gettop(L);
    const std::string label = raw_string(L, record, "label"), owner_kind = raw_string(L, record, "kind");
    lua_pushliteral(L, "owner");
    if (raw_string(L, record, "key") == name && !label.empty() && lua_rawget(L, record) == LUA_TTABLE) {
      const std::string near = closest_name(name, names_in(L, -1));
      if (owner_kind == "module") {
        hint = near.empty() ? "; " + label + " has no '" + name + "' (help(" + label + ") lists what it has)"
                            : "; did you mean '" + label + "." + near + "'?";
      } else if (!near.empty()) {
        hint = "; did you mean '" + near + "'?";
      }
    }
  }
  lua_settop(L, top);
  return hint;
}

// Lua names a library function by where package.loaded holds it: 'scalelab.native.model.gpt',
// 'scalelab.data.sampler', or for a function that two modules hold, either of them, as the table's
// order falls: 'scalelab.plot.figures.isoflop' as often as 'scalelab.plot.isoflop'. The user calls
// them model.gpt, data.sampler and plot.isoflop: `traceback` with the names so written. A name of
// three parts or more becomes <module>.<function> when the global module holds that same function;
// a function the user cannot call by name (scalelab.study.checks.fail) keeps its library name.
std::string with_user_names(lua_State* L, const std::string& traceback) {
  static const std::regex library_name(R"(function 'scalelab\.(native\.)?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)')");
  std::string out;
  size_t copied = 0;
  lua_checkstack(L, 4);
  for (std::sregex_iterator it(traceback.begin(), traceback.end(), library_name), end; it != end; ++it) {
    const std::smatch& match = *it;
    const std::string path = match[2];
    const size_t first_dot = path.find('.'), last_dot = path.rfind('.');
    std::string name = path;
    if (first_dot != last_dot) {
      // The function package.loaded's entry holds, compared with the global module's of that name.
      const std::string module = "scalelab." + std::string(match[1]) + path.substr(0, last_dot);
      const std::string function = path.substr(last_dot + 1), global = path.substr(0, first_dot);
      const int top = lua_gettop(L);
      luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
      lua_pushstring(L, module.c_str());
      bool same = false;
      if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_pushstring(L, function.c_str());
        lua_rawget(L, -2);
        lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
        lua_pushstring(L, global.c_str());
        if (lua_rawget(L, -2) == LUA_TTABLE) {
          lua_pushstring(L, function.c_str());
          lua_rawget(L, -2);
          same = !lua_isnil(L, -1) && lua_rawequal(L, -1, -4);
        }
      }
      lua_settop(L, top);
      if (!same) continue;
      name = global + "." + function;
    }
    out.append(traceback, copied, match.position(0) - copied);
    out += "function '" + name + "'";
    copied = match.position(0) + match.length(0);
  }
  out.append(traceback, copied, std::string::npos);
  return out;
}

// describe(value) -> the value as the REPL prints it (scalelab.pretty), a few levels and entries of it
// on one line. Called protected.
int describe(lua_State* L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "scalelab.pretty");
  lua_getfield(L, -1, "format");
  lua_pushvalue(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, 2);
  lua_setfield(L, -2, "depth");
  lua_pushinteger(L, 10);
  lua_setfield(L, -2, "length");
  lua_pushinteger(L, 1000);
  lua_setfield(L, -2, "width");
  lua_call(L, 2, 1);
  return 1;
}

// `traceback` with each library function written in Lua that was called through a C function
// (core.keep_caller) shown as one frame, as it was before it went through one: "<file>:387: in
// function 'sweep.filter'" for the pair "<file>:387: in function <<file>:381>" (unnamed: a C
// function called it) and "[C]: in function 'sweep.filter'".
std::string with_kept_callers_merged(lua_State* L, std::string traceback) {
  lua_Debug ar, inner;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "f", &ar)) break;
    const bool kept = lua::keeps_caller(L, -1);
    lua_pop(L, 1);
    if (!kept || !lua_getstack(L, level - 1, &inner) || !lua_getinfo(L, "Sl", &inner) ||
        std::strcmp(inner.what, "Lua") != 0)
      continue;
    const std::string where = std::string("\n\t") + inner.short_src + ":" + std::to_string(inner.currentline) + ":";
    const std::string pair = where + " in function <" + inner.short_src + ":" + std::to_string(inner.linedefined) +
                             ">\n\t[C]:";
    const size_t at = traceback.find(pair);
    if (at != std::string::npos) traceback.replace(at, pair.size(), where);
  }
  return traceback;
}

// The position of a runtime error that Lua's own C functions raise without one: ipairs(nil)'s
// iterator ("attempt to index a nil value") and the like locate at level 1, the C function itself,
// where luaL_error finds no line. Such a message gets the file and line of the first frame above it
// when that frame is the user's ("run.lua:3: attempt to index a nil value"), so every error names
// its line as the README says. A message already located, one raised by error(message, 0) (the
// user asked for none), or one whose first Lua frame is inside the library is left as it is.
// Empty when nothing is added.
std::string position_of_unlocated(lua_State* L, const char* message) {
  const char* colon = std::strchr(message, ':');
  if (colon && colon != message && starts_with_line(colon)) return "";  // "file:line:" already
  lua_Debug ar;
  if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "Sn", &ar) || std::strcmp(ar.what, "C") != 0) return "";
  if (ar.name && std::strcmp(ar.name, "error") == 0) return "";
  for (int level = 2; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar)) return "";
    if (std::strcmp(ar.what, "C") == 0) continue;
    if (lua::library_source(ar.source) || ar.currentline <= 0) return "";
    return std::string(ar.short_src) + ":" + std::to_string(ar.currentline) + ": ";
  }
  return "";
}

int message_handler(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  if (!message) {
    // An error object with __tostring (a class of errors) is said as it says itself, with the traceback
    // every other error gets: it was returned bare, as lua.c's handler does, and left no trace of where
    // it was raised.
    if (luaL_callmeta(L, 1, "__tostring")) {
      if (lua_type(L, -1) == LUA_TSTRING) message = lua_tostring(L, -1);
      else lua_pop(L, 1);
    }
  }
  if (!message) {
    // A table raised as the error (error({ code = 42, file = "x" })) said only "(error object is a
    // table value)": what it holds is what the user needs to see.
    if (lua_type(L, 1) == LUA_TTABLE) {
      lua_pushcfunction(L, describe);
      lua_pushvalue(L, 1);
      if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
        message = lua_pushfstring(L, "(error object is a table: %s)", lua_tostring(L, -1));
      else
        lua_pop(L, 1);
    }
    if (!message) message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  std::string library_frame, library_name;
  int traceback_top = lua_gettop(L);  // the traceback goes above this
  try {
    if (lua_type(L, 1) == LUA_TSTRING) {
      const std::string position = position_of_unlocated(L, message);
      if (!position.empty()) message = lua_pushfstring(L, "%s%s", position.c_str(), message);
      const std::string hint = missing_name_hint(L, message);
      forget_miss(L);
      if (!hint.empty()) message = lua_pushfstring(L, "%s%s", message, hint.c_str());
    }
    traceback_top = lua_gettop(L);
    luaL_traceback(L, L, message, traceback_level(L, message, &library_frame, &library_name));
    std::string named = with_kept_callers_merged(L, with_user_names(L, lua_tostring(L, -1)));
    if (!library_frame.empty()) {
      const size_t frames = named.find("\nstack traceback:");
      const size_t at = frames == std::string::npos ? frames : named.find(library_frame, frames);
      if (at != std::string::npos) {
        named.replace(at, library_frame.size(), "\n\t[scalelab]:");
        const std::string field = " in field '" + library_name.substr(library_name.rfind('.') + 1) + "'";
        const size_t name_at = at + std::strlen("\n\t[scalelab]:");
        if (!library_name.empty() && named.compare(name_at, field.size(), field) == 0)
          named.replace(name_at, field.size(), " in function '" + library_name + "'");
      }
    }
    lua_pushlstring(L, named.data(), named.size());
  } catch (const std::exception&) {
    // No memory for the C++ strings (this is a lua_CFunction: no C++ exception may leave it, or
    // lua_pcall returns the unknown status -1): the traceback as Lua writes it.
    if (lua_gettop(L) <= traceback_top) {
      lua_settop(L, traceback_top);
      luaL_traceback(L, L, message, 1);
    } else {
      lua_settop(L, traceback_top + 1);
    }
  }
  return 1;
}

// The environment of the library's modules (the registry's field): the standard library as it was
// when the program started, then the globals. A script or a REPL session that named a global of its
// own `table`, `type` or `string` (table = law:table(), type = "markov") replaced what every library
// function calls: each value the REPL showed, help(), and the library's functions then failed
// ("attempt to call a string value (global 'type')"). The modules' writes go to the globals (init.lua
// sets model, help, ...), and their reads of any other name find the globals as they are. print
// calls the global one (library_print): users and tests replace it to capture what the library prints.
constexpr const char* kLibraryEnvKey = "scalelab.library_environment";

// The library's print: the global print as it is now (a user's that captures or logs what the library
// prints sees it), or Lua's own (upvalue 1) where the global one cannot be called: with print = nil
// (which the REPL suggests after a print of the user's failed, and which shows values without it),
// help() and every library function that prints failed "stdlib/scalelab/help.lua:103: attempt to call
// a nil value (global 'print')". The global print may be this function itself, which a library module
// read as its print and put back (local saved = print; print = ...; print = saved): then Lua's own too.
int library_print(lua_State* L) {
  const int n = lua_gettop(L);
  lua_getglobal(L, "print");
  if (!callable(L, -1) || lua_tocfunction(L, -1) == library_print) {
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
  }
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

void make_library_environment(lua_State* L) {
  lua_newtable(L);                 // the environment: empty, so that every write goes to the globals
  lua_createtable(L, 0, 2);        // its metatable
  lua_newtable(L);                 // the standard library, as it is now
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {  // environment, metatable, standard, _G, key, value
    if (lua_type(L, -2) == LUA_TSTRING && std::strcmp(lua_tostring(L, -2), "print") != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -5);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_getglobal(L, "print");
  lua_pushcclosure(L, library_print, 1);
  lua_setfield(L, -3, "print");
  lua_createtable(L, 0, 1);        // the standard library's metatable: the globals past it
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -3);
  lua_setfield(L, -3, "__newindex");  // environment, metatable, standard
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kLibraryEnvKey);
}

// Gives the chunk on the stack top, a module of the library just loaded, the library's environment.
void set_library_environment(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kLibraryEnvKey) != LUA_TTABLE || !lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
}

// package.searchers entry for "scalelab" and "scalelab.*": from $SCALELAB_STDLIB/<path>.lua if that
// variable is set (a source tree for development), else from the copy compiled into the program.
int stdlib_searcher(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  if (std::strcmp(name, "scalelab") != 0 && std::strncmp(name, "scalelab.", 9) != 0) {
    lua_pushfstring(L, "no module '%s' in scalelab's library", name);
    return 1;
  }
  if (const char* root = std::getenv("SCALELAB_STDLIB"); root && *root) {
    std::string relative = name;
    for (char& c : relative)
      if (c == '.') c = '/';
    const std::string path = std::string(root) + "/" + relative;
    for (const std::string& candidate : {path + ".lua", path + "/init.lua"}) {
      std::ifstream probe(candidate);
      if (!probe) continue;
      if (luaL_loadfile(L, candidate.c_str()) != LUA_OK) return lua_error(L);
      set_library_environment(L);
      lua_pushstring(L, candidate.c_str());
      return 2;
    }
    lua_pushfstring(L, "no file '%s.lua' under $SCALELAB_STDLIB", path.c_str());
    return 1;
  }
  for (const auto& module : embedded_modules()) {
    if (std::strcmp(module.name, name) != 0) continue;
    if (luaL_loadbufferx(L, module.source, module.size, module.chunkname, "t") != LUA_OK)
      return lua_error(L);
    set_library_environment(L);
    lua_pushstring(L, module.chunkname + 1);
    return 2;
  }
  lua_pushfstring(L, "no module '%s' in scalelab's library", name);
  return 1;
}

int open_host(lua_State* L) {
  luaL_openlibs(L);
  record_resumes(L);
  lua::open_all(L);
  make_library_environment(L);
  // Insert the stdlib searcher right after the preload searcher.
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  const lua_Integer n = luaL_len(L, -1);
  for (lua_Integer i = n; i >= 2; --i) {
    lua_geti(L, -1, i);
    lua_seti(L, -2, i + 1);
  }
  lua_pushcfunction(L, lua::bound<stdlib_searcher>);  // builds file names in C++: bound
  lua_seti(L, -2, 2);
  lua_pop(L, 2);
  // The library: sets the globals (model, help, ...).
  lua_getglobal(L, "require");
  lua_pushliteral(L, "scalelab");
  lua_call(L, 1, 0);
  return 0;
}

}  // namespace

bool callable(lua_State* L, int index) {
  const int type = lua_type(L, index);
  if (type == LUA_TFUNCTION) return true;
  if (type == LUA_TNIL || luaL_getmetafield(L, index, "__call") == LUA_TNIL) return false;
  lua_pop(L, 1);
  return true;
}

Host::Host() : L_(luaL_newstate()) {
  if (!L_) throw SystemError("cannot create a Lua state: out of memory");
  lua_pushcfunction(L_, message_handler);
  lua_pushcfunction(L_, lua::bound<open_host>);
  if (lua_pcall(L_, 0, 0, -2) != LUA_OK) {
    std::string message = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "unknown error";
    lua_close(L_);
    throw SystemError("cannot start scalelab's Lua library: " + message);
  }
  lua_pop(L_, 1);
}

Host::~Host() { lua_close(L_); }

int Host::call(int nargs, int nresults) {
  const int base = lua_gettop(L_) - nargs;
  lua_pushcfunction(L_, message_handler);
  lua_insert(L_, base);
  forget_miss(L_);  // a name missed by an earlier call is not this call's error
  settle_interrupt();
  forget_stopped_by_interrupt();
  g_signal_seen = 0;
  g_raised = 0;
  g_unwinding = 0;
  g_said_stopping = 0;
  g_running = L_;
  struct sigaction action {}, previous_int {}, previous_term {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
  const int status = lua_pcall(L_, nargs, nresults, base);
  sigaction(SIGTERM, &previous_term, nullptr);
  sigaction(SIGINT, &previous_int, nullptr);
  g_running = nullptr;
  g_unwinding = 0;
  lua_sethook(L_, nullptr, 0, 0);
  settle_interrupt();
  lua_remove(L_, base);
  // A call that failed after Ctrl-C or SIGTERM ended by it (however the error was worded on its way out).
  stop_signal_ = g_signal_seen;
  interrupted_ = status != LUA_OK && stop_signal_ != 0;
  return status;
}

void Host::report(bool prefixed) {
  const char* message = lua_tostring(L_, -1);
  std::fprintf(stderr, "%s%s\n", prefixed ? "scalelab: " : "", message ? message : "(error object is not a string)");
  std::fflush(stderr);
  lua_pop(L_, 1);
}

void Host::add_script_dir(const std::string& script_path) {
  const size_t slash = script_path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : script_path.substr(0, slash);
  lua_getglobal(L_, "package");
  lua_getfield(L_, -1, "path");
  std::string path = dir + "/?.lua;" + dir + "/?/init.lua;" + lua_tostring(L_, -1);
  lua_pop(L_, 1);
  lua_pushstring(L_, path.c_str());
  lua_setfield(L_, -2, "path");
  lua_pop(L_, 1);
}

void Host::set_arg(const std::vector<std::string>& argv, int script_index) {
  lua_createtable(L_, static_cast<int>(argv.size()), 0);
  for (int i = 0; i < static_cast<int>(argv.size()); ++i) {
    lua_pushstring(L_, argv[i].c_str());
    lua_rawseti(L_, -2, i - script_index);
  }
  lua_setglobal(L_, "arg");
}

// A syntax error at a character outside ASCII, which Lua names by its first byte ("stdin:1:
// unexpected symbol near '<\207>'" for "π = 3.14", '<\226>' for a typographic quote pasted from a
// page): the message on the stack top is given the character itself and what Lua takes instead.
// `source` is the text that was compiled (a line typed, a script).
void explain_non_ascii(lua_State* L, const std::string& chunk) {
  size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  if (!text) return;
  const std::string message(text, length);
  const size_t at = message.find("'<\\"), end = at == std::string::npos ? at : message.find(">'", at);
  if (end == std::string::npos) return;
  const int byte = std::atoi(message.c_str() + at + 3);
  if (byte < 0xC0 || byte > 0xF4) return;  // ASCII controls, or no UTF-8 lead byte
  // The line: the number between the last two ':' before the character ("dir/x.lua:3: ...").
  const size_t after_line = message.rfind(':', at);
  const size_t before_line = after_line == std::string::npos || after_line == 0 ? std::string::npos
                                                                               : message.rfind(':', after_line - 1);
  if (before_line == std::string::npos) return;
  const int line_number = std::atoi(message.c_str() + before_line + 1);
  size_t start = 0;
  for (int n = 1; n < line_number && start != std::string::npos; ++n) {
    start = chunk.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (start == std::string::npos) return;
  const std::string line = chunk.substr(start, chunk.find('\n', start) - start);
  // The character: the first on that line that starts with the byte outside a quoted string (a long
  // string or comment from an earlier line aside, where Lua would not have stopped).
  const size_t size = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
  std::string character;
  char quote = 0;
  for (size_t i = 0; i < line.size() && character.empty(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '-' && line.compare(i, 2, "--") == 0) {
      break;
    } else if (static_cast<unsigned char>(c) == byte) {
      character = line.substr(i, size);
    }
  }
  if (character.empty()) return;
  std::string hint;
  for (const char* quote : {"\u201C", "\u201D", "\u2018", "\u2019", "\u201E", "\u00AB", "\u00BB"})
    if (character == quote) hint = "a typographic quote: Lua's strings are in \" or '";
  for (const char* op : {"\u2264", "\u2265", "\u2260", "\u2212", "\u00D7", "\u00F7", "\u2013", "\u2014", "\u00B7"})
    if (character == op) hint = "an operator Lua writes in ASCII: <=, >=, ~=, -, *, /";
  if (character == "\u00A0") hint = "a no-break space: Lua's blanks are ASCII spaces";
  if (hint.empty()) hint = "Lua's names are ASCII letters, digits and _; other text goes in quotes";
  const std::string explained = message.substr(0, at) + "'" + character + "' (" + hint + ")" + message.substr(end + 2);
  lua_pop(L, 1);
  lua_pushlstring(L, explained.data(), explained.size());
}

// The registry's field holding the script this host runs, as loaded: { path =, text = }.
constexpr const char* kScriptTextKey = "scalelab.script";

bool Host::run_file(const std::string& path, const std::vector<std::string>& args) {
  const bool from_stdin = path == "-";
  // A study's worker runs the script as it was when its study started: the executor gives it a copy
  // of the script's text then, beside the store (SCALELAB_STUDY_SCRIPT), so that an edit of the
  // script while the study runs cannot change the runs its workers plan. The copy loads under the
  // script's own name, so messages, package.path and arg are the script's. A worker that cannot read
  // the copy (a cluster's machine that does not see that folder) runs the script file as before.
  // The variable holds the script's path and the copy's, a line each: a scalelab that the worker's
  // script starts on another script runs that one.
  const char* copy = std::getenv("SCALELAB_STUDY_SCRIPT");
  std::ifstream copied;
  if (!from_stdin && copy && std::getenv("SCALELAB_STUDY_WORKER")) {
    const std::string value = copy;
    const size_t newline = value.find('\n');
    if (newline != std::string::npos && value.compare(0, newline, path) == 0 && newline + 1 < value.size())
      copied.open(value.substr(newline + 1), std::ios::binary);
  }
  // A script that is a regular file is read whole and loaded from that text, which the registry keeps
  // (kScriptTextKey: { path =, text = }): a study records the script as it was loaded, and gives its
  // workers a copy of that text, not of the file as it is when the study starts (an edit of the file
  // in between would have the workers plan another sweep than the study's). Standard input, a pipe
  // or a file that cannot be read load as before.
  std::ifstream whole;
  struct stat info {};
  if (!from_stdin && !copied.is_open() && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode))
    whole.open(path, std::ios::binary);
  std::ifstream& source = copied.is_open() ? copied : whole;
  int status;
  if (source.is_open()) {
    std::string text((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
    lua_createtable(L_, 0, 2);
    lua_pushlstring(L_, path.data(), path.size());
    lua_setfield(L_, -2, "path");
    lua_pushlstring(L_, text.data(), text.size());
    lua_setfield(L_, -2, "text");
    lua_setfield(L_, LUA_REGISTRYINDEX, kScriptTextKey);
    // As luaL_loadfile: a byte-order mark and a first line of '#' (#!/usr/bin/env scalelab) are
    // skipped, the line's end kept so that line numbers stay the file's.
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    if (!text.empty() && text[0] == '#') {
      const size_t end = text.find('\n');
      text.erase(0, end == std::string::npos ? text.size() : end);
    }
    status = luaL_loadbuffer(L_, text.data(), text.size(), ("@" + path).c_str());
  } else {
    status = luaL_loadfile(L_, from_stdin ? nullptr : path.c_str());
  }
  if (status == LUA_ERRSYNTAX && !from_stdin) {
    std::ifstream file(path, std::ios::binary);
    explain_non_ascii(L_, std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>()));
  }
  if (status == LUA_ERRFILE) {
    // luaL_loadfile's message is "cannot open x.lua"; say what to do.
    lua_pop(L_, 1);
    lua_pushfstring(L_, "cannot open script '%s': %s", path.c_str(), std::strerror(errno));
  }
  if (status == LUA_OK) {
    if (!from_stdin) add_script_dir(path);
    for (const auto& a : args) lua_pushstring(L_, a.c_str());
    status = call(static_cast<int>(args.size()), 0);
  }
  if (status != LUA_OK) report();
  return status == LUA_OK;
}

bool Host::run_string(const std::string& code, const std::string& chunkname) {
  int status = luaL_loadbuffer(L_, code.data(), code.size(), chunkname.c_str());
  if (status == LUA_ERRSYNTAX) explain_non_ascii(L_, code);
  if (status == LUA_OK) status = call(0, 0);
  if (status != LUA_OK) report();
  return status == LUA_OK;
}

bool Host::require(const std::string& spec) {
  const size_t eq = spec.find('=');
  const std::string global = eq == std::string::npos ? spec.substr(spec.find_last_of('.') + 1) : spec.substr(0, eq);
  const std::string module = eq == std::string::npos ? spec : spec.substr(eq + 1);
  lua_getglobal(L_, "require");
  lua_pushstring(L_, module.c_str());
  int status = call(1, 1);
  if (status != LUA_OK) {
    report();
    return false;
  }
  lua_setglobal(L_, global.c_str());
  return true;
}

}  // namespace scalelab::host

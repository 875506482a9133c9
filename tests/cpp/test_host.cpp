// The Lua host: the error boundary (in-process, with a count of live C++ allocations), and the
// program's command line (exit codes, messages, tracebacks, arg, module path).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>
#include <string>

#include "host/host.h"
#include "process.h"

// Count live C++ allocations in this test program, so a leak across the boundary shows up here
// even without a sanitizer. Under AddressSanitizer (cmake -DSCALELAB_SANITIZE=ON), LeakSanitizer
// checks every allocation instead, and a counting operator new would clash with its allocator.
namespace {
std::atomic<long> g_live{0};
// When nonzero, C++ allocations of this many bytes or more fail (std::bad_alloc), as they do on a
// machine out of memory.
std::atomic<std::size_t> g_refuse_from{0};
}
#ifndef __SANITIZE_ADDRESS__
void* operator new(std::size_t size) {
  if (const std::size_t limit = g_refuse_from.load(); limit && size >= limit) throw std::bad_alloc();
  void* p = std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  ++g_live;
  return p;
}
void operator delete(void* p) noexcept {
  if (p) --g_live;
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
#endif

using scalelab::host::Host;
using namespace scalelab::testing;

namespace {

// Runs `code` in protected mode; returns the error message or "" on success.
std::string protected_run(Host& host, const std::string& code) {
  lua_State* L = host.state();
  if (luaL_loadbuffer(L, code.data(), code.size(), "=test") != LUA_OK) return lua_tostring(L, -1);
  if (lua_pcall(L, 0, 0, 0) == LUA_OK) return "";
  std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "?";
  lua_pop(L, 1);
  return message;
}

}  // namespace

TEST_CASE("a throwing binding becomes a clean Lua error and leaks nothing") {
  Host host;
  const std::string code = "require('scalelab.native.core').throw_for_test('boom')";
  std::string message = protected_run(host, code);
  CHECK(message == "test:1: test exception: boom (2000 bytes held)");
  const long before = g_live.load();
  for (int i = 0; i < 1000; ++i) protected_run(host, code);
  lua_gc(host.state(), LUA_GCCOLLECT);
  CHECK(g_live.load() == before);
}

TEST_CASE("argument tables reject unknown keys and wrong types, naming them") {
  Host host;
  CHECK_THAT(protected_run(host, "model.gpt{ vocab = 256, ctx = 64, d_modle = 64, n_layer = 2, n_head = 2 }"),
             Catch::Contains("test:1: model.gpt: unknown key 'd_modle'; did you mean 'd_model'?"));
  CHECK_THAT(protected_run(host, "model.gpt{ vocab = '256', ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }"),
             Catch::Contains("model.gpt: vocab must be a number (got string); write it without quotes: vocab = 256"));
  // A string that is no number gets no such advice.
  CHECK_THAT(protected_run(host, "model.gpt{ vocab = 'many', ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }"),
             Catch::Contains("model.gpt: vocab must be a number (got string)") && !Catch::Contains("without quotes"));
  CHECK_THAT(protected_run(host, "model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2.5, n_head = 2 }"),
             Catch::Contains("n_layer must be an integer (got 2.5)"));
  CHECK_THAT(protected_run(host, "model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2 }"),
             Catch::Contains("missing required key 'n_head'"));
  CHECK_THAT(protected_run(host, "model.gpt(5)"), Catch::Contains("expects a table of named arguments"));
  CHECK_THAT(protected_run(host, "local c = model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }; return c.parms"),
             Catch::Contains("GptConfig has no field 'parms'; did you mean 'params'?"));
}

TEST_CASE("a Lua error inside a Lua callback unwinds through C++ and is caught by pcall") {
  Host host;
  CHECK_THAT(protected_run(host, "error('plain lua error')"), Catch::Contains("plain lua error"));
  CHECK(protected_run(host, "assert(pcall(error, 'x') == false)") == "");
}

namespace {
ProcessResult scalelab_run(const std::vector<std::string>& args, const std::string& input = "",
                           const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{SCALELAB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, input, env);
}
}  // namespace

TEST_CASE("scalelab -e prints GPT-2's parameter count") {
  auto r = scalelab_run({"-e", "print(model.gpt{vocab=50257, ctx=1024, d_model=768, n_layer=12, n_head=12}.params)"});
  CHECK(r.status == 0);
  CHECK(r.out == "124439808\n");
}

TEST_CASE("what the library prints goes through the global print\, and to standard output where print is nil") {
  // With print = nil (as the REPL suggests after a print of the user's failed), help() and every library
  // function that prints failed: "stdlib/scalelab/help.lua:103: attempt to call a nil value (global 'print')".
  const std::string dir = temp_dir();
  auto r = scalelab_run({"-e", "print = nil; help(plan.cost); study 'p' { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, "
                               "backend = 'simulated', fits = {}, store = '" + dir + "/p.db' }"});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::StartsWith("plan.cost{"));
  CHECK_THAT(r.out, Catch::Contains("# Study p"));
  CHECK(r.err.find("attempt to call") == std::string::npos);
  // A print of the user's sees what the library prints, as before.
  r = scalelab_run({"-e", "local lines = {}; local p = print; print = function(s) lines[#lines + 1] = s end; "
                          "help(plan.cost); print = p; print(#lines > 0, lines[1]:sub(1, 10))"});
  CHECK(r.status == 0);
  CHECK(r.out == "true\tplan.cost{\n");
}

TEST_CASE("a script error exits 1 with file:line and a traceback") {
  auto r = scalelab_run({"-e", "error('boom')"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (command line):1: boom"));
  CHECK_THAT(r.err, Catch::Contains("stack traceback:"));

  std::string dir = temp_dir();
  write_file(dir + "/bad.lua", "local function f()\n  local x = nil\n  return x.field\nend\nf()\n");
  r = scalelab_run({dir + "/bad.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("bad.lua:3: attempt to index a nil value"));
  CHECK_THAT(r.err, Catch::Contains("bad.lua:5: in main chunk"));
}

TEST_CASE("an error Lua's own C function raises without a line names the user's line\, and error(m\, 0) stays bare") {
  std::string dir = temp_dir();
  // ipairs(nil) fails in the generic for's iterator, a C function, where luaL_error finds no line.
  write_file(dir + "/loop.lua", "local runs = nil\n\nfor _ in ipairs(runs) do end\n");
  auto r = scalelab_run({dir + "/loop.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: " + dir + "/loop.lua:3: attempt to index a nil value"));
  CHECK_THAT(r.err, Catch::Contains("loop.lua:3: in main chunk"));
  // The user asked for no position.
  r = scalelab_run({"-e", "error('bare', 0)"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: bare\n"));
  // Already located: not twice.
  r = scalelab_run({"-e", "local s; print(s.a)"});
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (command line):1: attempt to index a nil value (local 's')"));
}

TEST_CASE("an error object with __tostring is said as it says itself\, with the traceback") {
  // It was said bare, as lua.c says it, with nothing of where it was raised.
  std::string dir = temp_dir();
  write_file(dir + "/raise.lua", "local E = { __tostring = function(e) return 'E: ' .. e.what end }\n"
                                 "local function check(x)\n"
                                 "  if not x then error(setmetatable({ what = 'no x' }, E)) end\n"
                                 "end\n"
                                 "check(nil)\n");
  auto r = scalelab_run({dir + "/raise.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: E: no x\nstack traceback:\n\t[C]: in function 'error'\n"));
  CHECK_THAT(r.err, Catch::Contains("raise.lua:3: in local 'check'"));
  CHECK_THAT(r.err, Catch::Contains("raise.lua:5: in main chunk"));
  // A __tostring that gives no string: the object's kind, as before.
  r = scalelab_run({"-e", "error(setmetatable({}, { __tostring = function() return 42 end, __name = 'Thing' }))"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: "));
  CHECK_THAT(r.err, Catch::Contains("stack traceback:"));
}

TEST_CASE("a table raised as the error is shown with what it holds\, with the traceback") {
  // It said "(error object is a table value)" alone: not what the table held.
  auto r = scalelab_run({"-e", "error({ code = 42, file = 'runs.csv', rows = { 1, 2 } })"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (error object is a table: {code = 42, file = \"runs.csv\", rows = {1, 2}})\n"));
  CHECK_THAT(r.err, Catch::Contains("stack traceback:"));
  // Other values as before; a table whose own listing fails, by its type.
  r = scalelab_run({"-e", "error(nil)"});
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (error object is a nil value)\n"));
  r = scalelab_run({"-e", "error(setmetatable({}, { __pairs = function() error('no') end }))"});
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (error object is a table: <table: __pairs failed: no>)\n"));
}

TEST_CASE("a script's syntax error at a character outside ASCII names the character and what Lua takes instead") {
  // As in the REPL: Lua named the character's first byte, "unexpected symbol near '<\226>'".
  std::string dir = temp_dir();
  write_file(dir + "/quotes.lua", "#!/usr/bin/env scalelab\nlocal ok = 'fine: \xe2\x80\x9c'\nprint(\xe2\x80\x9chello\xe2\x80\x9d)\n");
  auto r = scalelab_run({dir + "/quotes.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("quotes.lua:3: unexpected symbol near '\xe2\x80\x9c' (a typographic quote: Lua's "
                                    "strings are in \" or ')"));
  r = scalelab_run({"-e", "\xcf\x80 = 3.14"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("(command line):1: unexpected symbol near '\xcf\x80' (Lua's names are ASCII"));
}

TEST_CASE("a traceback names library functions as the user calls them") {
  auto r = scalelab_run({"-e", "model.gpt{ vocab = 0, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("in function 'model.gpt'"));
  CHECK_THAT(r.err, !Catch::Contains("scalelab.native"));
  r = scalelab_run({"-e", "data.sampler{ corpus = 5 }"});  // a Lua wrapper of the data module
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("in function 'data.sampler'"));
}

TEST_CASE("a library function written in Lua that calls the user's function is one frame of the traceback\, named") {
  // Called through a C function (core.keep_caller), it showed as two frames: the Lua function
  // unnamed ("in function <stdlib/scalelab/sweep.lua:381>") and "[C]: in function 'sweep.filter'".
  auto r = scalelab_run({"-e", "sweep.filter(sweep.grid{ N = { 1e6 }, D = { 1e7 } }, function(p) return p.X > 1 end)"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (command line):1: attempt to compare"));
  CHECK_THAT(r.err, Catch::Contains(": in function 'sweep.filter'\n\t(command line):1: in main chunk"));
  CHECK_THAT(r.err, !Catch::Contains("[C]: in function 'sweep.filter'"));
  CHECK_THAT(r.err, !Catch::Contains("in function <stdlib"));
}

TEST_CASE("a traceback names a function two library modules hold as the user calls it, every time") {
  // plot.isoflop is also scalelab.plot.figures.isoflop: Lua named it by whichever entry of
  // package.loaded it met first, and a run in three said 'scalelab.plot.figures.isoflop'.
  for (int i = 0; i < 8; ++i) {
    auto r = scalelab_run({"-e", "plot.isoflop()"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("in function 'plot.isoflop'"));
  }
  // Without scalelab.plot in package.loaded, Lua can only find it under its inner module's name.
  auto r = scalelab_run({"-e", "package.loaded['scalelab.plot'] = nil; plot.isoflop()"});
  CHECK_THAT(r.err, Catch::Contains("in function 'plot.isoflop'"));
  CHECK_THAT(r.err, !Catch::Contains("scalelab.plot.figures"));
  // A library function the user cannot call by name keeps the name Lua gave it.
  r = scalelab_run({"-e", "require('scalelab.study.checks').table(5, {}, 'x')"});
  CHECK_THAT(r.err, Catch::Contains("in function 'scalelab.study.checks.table'"));
}

TEST_CASE("a mistyped module function, global or method: the error says the name meant") {
  auto r = scalelab_run({"-e", "train.rnu{ tokens = 1e6 }"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (command line):1: attempt to call a nil value (field 'rnu'); "
                                      "did you mean 'train.run'?\nstack traceback:"));
  r = scalelab_run({"-e", "local s = data.sampeler{}"});
  CHECK_THAT(r.err, Catch::Contains("(field 'sampeler'); did you mean 'data.sampler'?"));
  r = scalelab_run({"-e", "x = fit.chinchila.E"});  // indexed rather than called
  CHECK_THAT(r.err, Catch::Contains("attempt to index a nil value (field 'chinchila'); did you mean 'fit.chinchilla'?"));
  // Nothing near: where to find the module's names.
  r = scalelab_run({"-e", "train.zzzzzzzz()"});
  CHECK_THAT(r.err, Catch::Contains("(field 'zzzzzzzz'); train has no 'zzzzzzzz' (help(train) lists what it has)"));
  // A mistyped module or function name at the top level.
  r = scalelab_run({"-e", "trian.run{}"});
  CHECK_THAT(r.err, Catch::Contains("attempt to index a nil value (global 'trian'); did you mean 'train'?"));
  r = scalelab_run({"-e", "pirnt(1)"});
  CHECK_THAT(r.err, Catch::Contains("(global 'pirnt'); did you mean 'print'?"));
  r = scalelab_run({"-e", "x.y = 1"});  // a short name is near too many to guess
  CHECK_THAT(r.err, Catch::Contains("(global 'x')\nstack traceback:"));
  // A method of the library's Lua objects.
  r = scalelab_run({"-e", "s = sweep.grid{ N = {1e6}, D = {1e7} }; s:seed(3)"});
  CHECK_THAT(r.err, Catch::Contains("attempt to call a nil value (method 'seed'); did you mean 'seeds'?"));
  // And of its other objects made in Lua: a figure, panels, a study's IsoFLOP fit (whose class an
  // approach-1 fit inherits).
  r = scalelab_run({"-e", "f = plot.figure{}; f:pionts{ x = {1}, y = {1} }"});
  CHECK_THAT(r.err, Catch::Contains("attempt to call a nil value (method 'pionts'); did you mean 'points'?"));
  r = scalelab_run({"-e", "p = plot.panels{ plot.figure{}, plot.figure{} }; p:svae('x.svg')"});
  CHECK_THAT(r.err, Catch::Contains("attempt to call a nil value (method 'svae'); did you mean 'save'?"));
  r = scalelab_run({"-e", "local rows = {} "
                          "for p in sweep.isoflop{ budgets = {1e18, 1e19, 1e20}, sizes = {3e7, 1e8, 3e8, 1e9, 3e9} }:each() do "
                          "rows[#rows + 1] = { N = p.N, D = p.D, budget = p.budget, "
                          "loss = fit.published.chinchilla:predict{ N = p.N, D = p.D } } end "
                          "local law = require('scalelab.study.analysis').isoflop(rows, { bootstrap = 0 }) "
                          "law:optimla(1e21)"});
  CHECK_THAT(r.err, Catch::Contains("attempt to call a nil value (method 'optimla'); did you mean 'optimal'?"));
  // Reading a name a module lacks still gives nil (a script may test for one), and the miss says
  // nothing of another table's field of that name in a later call.
  r = scalelab_run({"-e", "print(train.rnu, fit.published ~= nil)", "-e", "local t = {}; t.rnu()"});
  CHECK_THAT(r.out, Catch::StartsWith("nil\ttrue\n"));
  CHECK_THAT(r.err, Catch::Contains("(field 'rnu')\nstack traceback:"));
}

// exit() and quit(), as python leaves, were told "did you mean 'next'?" and "did you mean 'fit'?".
TEST_CASE("exit() and quit() say that Lua leaves with os.exit()\, not a name near them") {
  for (const char* call : {"exit()", "quit()"}) {
    auto r = scalelab_run({"-e", call});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("; Lua leaves with os.exit() (and the REPL with Ctrl-D too)"));
    CHECK_THAT(r.err, !Catch::Contains("did you mean"));
  }
  auto r = scalelab_run({"-i"}, "exit()\nprint('still ' .. 'here')\n");
  CHECK_THAT(r.err, Catch::Contains("stdin:1: attempt to call a nil value (global 'exit'); Lua leaves with os.exit()"));
  CHECK_THAT(r.out, Catch::Contains("still here"));
  // A global of that name that the user defined is called as any other.
  r = scalelab_run({"-e", "function quit() print('mine') end quit()"});
  CHECK(r.status == 0);
  CHECK(r.out == "mine\n");
}

TEST_CASE("a module's table of functions (plot.formats) is wrapped as its module is: mistyped names\, tail calls") {
  // Only the modules themselves were wrapped: plot.formats.cont(n) said only "attempt to call a nil
  // value (field 'cont')", and a tail call of plot.formats.count lost the user's function from the
  // traceback ("(...tail calls...)").
  auto r = scalelab_run({"-e", "print(plot.formats.cont(1e9))"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("scalelab: (command line):1: attempt to call a nil value (field 'cont'); "
                                      "did you mean 'plot.formats.count'?\nstack traceback:"));
  r = scalelab_run({"-e", "plot.formats.zzzzzzzz(1)"});
  CHECK_THAT(r.err, Catch::Contains("(field 'zzzzzzzz'); plot.formats has no 'zzzzzzzz' (help(plot.formats) lists what "
                                    "it has)"));
  r = scalelab_run({"-e", "local function label(v)\n  return plot.formats.count(v)\nend\nprint(label(7.02e9))\nlabel('x')"});
  CHECK(r.status == 1);
  CHECK_THAT(r.out, Catch::StartsWith("7.02B\n"));
  CHECK_THAT(r.err, Catch::Contains("(command line):2: in local 'label'\n\t(command line):5: in main chunk"));
  CHECK_THAT(r.err, !Catch::Contains("tail calls"));
  // Still the same functions, documented as before; tables of other things are left as they are.
  r = scalelab_run({"-e", "print(plot.formats.percent(0.25), plot.formats.power(1e21), getmetatable(plot.config), "
                          "getmetatable(study.default_hyper))"});
  CHECK(r.out == "25%\t10^{21}\tnil\tnil\n");
}

TEST_CASE("an error the library raises at the user's line: the traceback starts at the call the user wrote") {
  std::string dir = temp_dir();
  write_file(dir + "/neg.lua", "local f = plot.figure{ ylog = true }\nf:points{ x = {1, 2}, y = {1, -1} }\n"
                               "f:save('" + dir + "/neg.svg')\n");
  auto r = scalelab_run({dir + "/neg.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("neg.lua:3: plot: series 1 (points) has y = -1"));
  CHECK_THAT(r.err, Catch::Contains("in method 'save'"));
  CHECK_THAT(r.err, Catch::Contains("neg.lua:3: in main chunk"));
  // The library function the user called shows as a C function does: its name, not its file.
  CHECK_THAT(r.err, Catch::Contains("stack traceback:\n\t[scalelab]: in method 'save'\n\t" + dir + "/neg.lua:3: in main chunk"));
  CHECK_THAT(r.err, !Catch::Contains("figure.lua"));
  // The library's inner frames (the checks that located the error, the helper that raised it) are left out.
  CHECK_THAT(r.err, !Catch::Contains("checks.lua"));
  CHECK_THAT(r.err, !Catch::Contains("save_script_and_data"));
  // An error inside the user's own function keeps every frame.
  write_file(dir + "/own.lua", "local function check(x)\n  if x < 0 then error('negative', 2) end\nend\ncheck(-1)\n");
  r = scalelab_run({dir + "/own.lua"});
  CHECK_THAT(r.err, Catch::Contains("own.lua:4: negative"));
  CHECK_THAT(r.err, Catch::Contains("own.lua:2: in "));
}

TEST_CASE("with -i the REPL opens after a failing -e statement, and the status is 1") {
  auto r = scalelab_run({"-i", "-e", "x = 41; error('stop here')"}, "x + 1\n");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("(command line):1: stop here"));
  CHECK_THAT(r.out, Catch::Contains("42"));
}

TEST_CASE("a C++ exception in a script reports the script's line") {
  std::string dir = temp_dir();
  write_file(dir + "/shape.lua", "\n\nlocal m = model.gpt{ vocab = 256, ctx = 64, d_model = 100, n_layer = 2, n_head = 3 }\n");
  auto r = scalelab_run({dir + "/shape.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("shape.lua:3: model.gpt: d_model (100) must be divisible by n_head (3)"));
}

TEST_CASE("bad usage exits 2 with the usage line") {
  auto r = scalelab_run({"--bogus"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("unrecognized option '--bogus'"));
  CHECK_THAT(r.err, Catch::Contains("usage: scalelab"));
  r = scalelab_run({"-e"});
  CHECK(r.status == 2);
  r = scalelab_run({"/nonexistent/script.lua"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("cannot open script '/nonexistent/script.lua'"));
}

TEST_CASE("the options -h, -v, -l, -i, - and the arg table behave as in lua") {
  auto r = scalelab_run({"--help"});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("usage: scalelab"));
  r = scalelab_run({"-v"});
  CHECK_THAT(r.out, Catch::StartsWith("scalelab "));
  // --version as --help (GNU's long form beside lua's -v): it was refused as an unrecognized option.
  r = scalelab_run({"--version"});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::StartsWith("scalelab "));
  CHECK(r.err.empty());
  r = scalelab_run({"-l", "p=scalelab.pretty", "-e", "print(p.format({1,2}))"});
  CHECK(r.out == "{1, 2}\n");
  r = scalelab_run({"-"}, "print('from stdin', ...)");
  CHECK(r.out == "from stdin\n");
  r = scalelab_run({}, "print(1 + 1)");  // a pipe runs standard input
  CHECK(r.out == "2\n");
  std::string dir = temp_dir();
  write_file(dir + "/args.lua", "print(arg[0], arg[1], arg[2], #arg, ...)");
  r = scalelab_run({dir + "/args.lua", "a", "b"});
  CHECK(r.out == dir + "/args.lua\ta\tb\t2\ta\tb\n");
  r = scalelab_run({"-i", "-e", "x = 41"}, "x + 1\n");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("42"));
}

TEST_CASE("the script's folder is on the module path, and SCALELAB_STDLIB overrides the library") {
  std::string dir = temp_dir();
  write_file(dir + "/helper.lua", "return { answer = 42 }");
  write_file(dir + "/main.lua", "print(require('helper').answer)");
  auto r = scalelab_run({dir + "/main.lua"});
  CHECK(r.status == 0);
  CHECK(r.out == "42\n");

  std::string lib = temp_dir();
  std::system(("mkdir -p " + lib + "/scalelab && cp -r " SCALELAB_SOURCE_DIR "/stdlib/scalelab/* " + lib +
               "/scalelab/ && echo 'return {format = function() return \"overridden\" end}' > " + lib +
               "/scalelab/pretty.lua").c_str());
  r = scalelab_run({"-e", "print(require('scalelab.pretty').format(1))"}, "", {"SCALELAB_STDLIB=" + lib});
  CHECK(r.out == "overridden\n");
}

TEST_CASE("scalelab results into a pipe whose reader is gone: the store is closed, then SIGPIPE ends it") {
  std::string dir = temp_dir();
  write_file(dir + "/s.lua", "study 's' { sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } }, backend = 'simulated', "
                             "fits = {} }\n");
  auto r = run_process({"/bin/sh", "-c", "cd '" + dir + "' && '" + SCALELAB_BINARY + "' s.lua"});
  REQUIRE(r.status == 0);
  const auto exists = [&](const std::string& name) { return access((dir + "/" + name).c_str(), F_OK) == 0; };
  REQUIRE(exists("s.db"));
  REQUIRE(!exists("s.db-shm"));
  REQUIRE(!exists("s.db-wal"));
  for (const char* option : {"", "--csv", "--json"}) {
    // The read end is closed before scalelab starts: its first write to standard output fails.
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    close(fds[0]);
    const std::string err_path = dir + "/err.txt";
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(fds[1], STDOUT_FILENO);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, STDERR_FILENO);
      if (chdir(dir.c_str()) != 0) _exit(99);
      if (*option)
        execl(SCALELAB_BINARY, "scalelab", "results", "s.db", option, "-", static_cast<char*>(nullptr));
      else
        execl(SCALELAB_BINARY, "scalelab", "results", "s.db", static_cast<char*>(nullptr));
      _exit(98);
    }
    close(fds[1]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("option " << option);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGPIPE);
    CHECK(!exists("s.db-shm"));
    CHECK(!exists("s.db-wal"));
    std::ifstream err(err_path);
    std::string said((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    // Quiet: nothing but what --csv - and --json - always say on standard error (the store's summary).
    if (*option) {
      CHECK(said.rfind("Store(s.db", 0) == 0);
      CHECK(said.find('\n') == said.size() - 1);
    } else {
      CHECK(said.empty());
    }
  }
}

TEST_CASE("the REPL goes on after a line that replaced require or broke the REPL's own module") {
  // Its values were printed through require('scalelab.repl') called unprotected: Lua's panic, abort.
  auto r = scalelab_run({"-i"}, "require = nil\n1 + 1\nprint('still here')\n");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("2\n"));
  CHECK_THAT(r.out, Catch::Contains("still here"));
  CHECK_THAT(r.err, !Catch::Contains("PANIC"));
  r = scalelab_run({"-i"}, "package.loaded['scalelab.repl'] = 5\n1 + 1\nprint('still here')\n");
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("attempt to index a number value"));
  CHECK_THAT(r.out, Catch::Contains("still here"));
  CHECK_THAT(r.err, !Catch::Contains("PANIC"));
}

// The library's modules read the standard library as it was at the start: a global of the user's
// named table, type, string or tostring (table = law:table(), type = "markov") replaced what every
// library function calls, and each value the REPL showed, help() and the library's functions failed
// ("attempt to call a string value (global 'type')"), as did the exit status of a script that set one.
TEST_CASE("globals the user names table\, type\, string or tostring break neither the library nor the REPL") {
  auto r = scalelab_run({"-e", "type = 'markov'"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  r = scalelab_run({"-i"},
                   "table, type, string, tostring, pairs = {'mine'}, 'gpt', 'text', 5, nil\n"
                   "m = model.gpt{vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2}\n"
                   "m\n"
                   "{1, b = {2, 3}, 0/0}\n"
                   "fit.published.chinchilla:optimal(5.76e23).N > 3e10\n"
                   "help(fit.published.chinchilla.optimal)\n"
                   "m.parms\n"
                   "print('type is', type, 'table is', table[1])\n");
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("GPT(L=2, d=64"));
  CHECK_THAT(r.out, Catch::Contains("{1, nan, b = {2, 3}}"));
  CHECK_THAT(r.out, Catch::Contains("true\n"));
  CHECK_THAT(r.out, Catch::Contains("law:optimal"));
  CHECK_THAT(r.out, Catch::Contains("type is\tgpt\ttable is\tmine"));  // the user's globals are theirs
  CHECK_THAT(r.err, Catch::Contains("did you mean 'params'?"));  // the library's own messages, as before
  CHECK_THAT(r.err, !Catch::Contains("attempt to"));
}

TEST_CASE("the REPL on standard input that ends inside an entry says the entry's syntax error\, as lua does") {
  // The unfinished entry was dropped without a word: the function it defined was silently missing.
  auto r = scalelab_run({"-i"}, "x = 1\nfunction f()\n  local y = x\nprint('before the end')\n");
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("stdin:3: 'end' expected (to close 'function' at line 1) near <eof>"));
  CHECK_THAT(r.out, !Catch::Contains("before the end"));
  // An expression cut short too; an entry that ended before the input did says nothing more.
  r = scalelab_run({"-i"}, "y = 2 +\n");
  CHECK_THAT(r.err, Catch::Contains("stdin:1: unexpected symbol near <eof>"));
  r = scalelab_run({"-i"}, "function g()\n  return 1\nend\nprint(g())\n");
  CHECK(r.out == "1\n");
  CHECK(r.err.empty());
}

TEST_CASE("an error whose traceback the message handler has no memory to write is still reported as an error") {
#ifdef __SANITIZE_ADDRESS__
  WARN("not checked: needs this program's own operator new, which AddressSanitizer replaces");
#else
  // The handler's C++ (the traceback's function names rewritten) ran out of memory: its bad_alloc
  // crossed into Lua, which has no status for it and returned -1 with some other value as the message.
  Host host;
  lua_State* L = host.state();
  const std::string code = "error(string.rep('x', 1e7))";
  REQUIRE(luaL_loadbuffer(L, code.data(), code.size(), "=test") == LUA_OK);
  g_refuse_from = 4 << 20;
  const int status = host.call(0, 0);
  g_refuse_from = 0;
  CHECK(status == LUA_ERRRUN);
  REQUIRE(lua_type(L, -1) == LUA_TSTRING);
  const std::string message = lua_tostring(L, -1);
  CHECK(message.rfind("test:1: xxxxxxxxxx", 0) == 0);
  CHECK_THAT(message, Catch::Contains("stack traceback:"));
  lua_pop(L, 1);
#endif
}

TEST_CASE("a library module that cannot be loaded for want of memory is a Lua error that says so") {
#ifdef __SANITIZE_ADDRESS__
  WARN("not checked: needs this program's own operator new, which AddressSanitizer replaces");
#else
  // The native modules' openers and the stdlib searcher were plain lua_CFunctions: their bad_alloc
  // crossed into Lua (lua_pcall's unknown status -1, with whatever value was on top as the message).
  Host host;
  lua_State* L = host.state();
  const auto require_fresh = [&](const std::string& module) {
    const std::string code = "package.loaded['" + module + "'] = nil; require('" + module + "')";
    REQUIRE(luaL_loadbuffer(L, code.data(), code.size(), "=test") == LUA_OK);
    g_refuse_from = 1;  // every C++ allocation fails; Lua's own (realloc) do not
    const int status = host.call(0, 0);
    g_refuse_from = 0;
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)";
    lua_pop(L, 1);
    INFO(module << ": " << message);
    CHECK(status == LUA_ERRRUN);
    CHECK_THAT(message, Catch::Contains("out of memory"));
  };
  require_fresh("scalelab.native.fit");
  // The searcher builds the file's name in C++ when the library is read from $SCALELAB_STDLIB.
  setenv("SCALELAB_STDLIB", SCALELAB_SOURCE_DIR "/stdlib", 1);
  require_fresh("scalelab.sweep");
  unsetenv("SCALELAB_STDLIB");
#endif
}

// The REPL, driven through a pseudo-terminal as a person would use it.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <sstream>

#include "process.h"

using namespace scalelab::testing;

namespace {
// Pty::expect, reporting the end of what the terminal shows when the text does not come.
bool shows(Pty& pty, const std::string& text) {
  if (pty.expect(text)) return true;
  const std::string& out = pty.output();
  WARN("waited in vain for '" << text << "'; the terminal's last 1500 bytes:\n"
                              << out.substr(out.size() > 1500 ? out.size() - 1500 : 0));
  return false;
}

// The REPL's command on a terminal with bracketed paste (TERM=xterm), which hands readline a paste
// whole, line breaks and all.
std::vector<std::string> pasting_terminal() { return {"/bin/sh", "-c", "TERM=xterm exec '" SCALELAB_BINARY "'"}; }

// Pastes `text` (its lines ended by \r) in the terminal's markers, then Enter, which runs the line
// readline then holds.
void paste(Pty& repl, const std::string& text) { repl.send("\x1b[200~" + text + "\x1b[201~\r"); }
}  // namespace

TEST_CASE("the REPL evaluates, continues, completes, survives Ctrl-C and keeps history") {
  std::string home = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + home});
  REQUIRE(shows(repl, "> "));

  // An expression prints its value.
  repl.send("1 + 2\r");
  REQUIRE(shows(repl, "3\r\n"));

  // A trailing semicolon silences it.
  repl.send("40 + 2;\r");
  repl.send("'after'\r");
  REQUIRE(shows(repl, "after"));
  CHECK(repl.output().find("42") == std::string::npos);

  // A statement that ends early continues on a second prompt.
  repl.send("function twice(x)\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("return 2 * x end\r");
  repl.send("twice(21)\r");
  REQUIRE(shows(repl, "42"));

  // An expression over several lines prints its value too, and a line ending in an operator
  // continues (as an expression, though it is no statement).
  repl.send("math.max(1,\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("4321)\r");
  REQUIRE(shows(repl, "4321\r\n"));
  repl.send("1000 +\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("234\r");
  REQUIRE(shows(repl, "1234\r\n"));
  repl.send("'ab' ..\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("'cd'\r");
  REQUIRE(shows(repl, "abcd"));
  CHECK(repl.output().find("unexpected symbol") == std::string::npos);

  // Tables pretty-print; bound objects print their summary.
  repl.send("{a = 1, b = {2, 3}}\r");
  REQUIRE(shows(repl, "{a = 1, b = {2, 3}}"));
  repl.send("model.gpt{vocab=256, ctx=64, d_model=64, n_layer=2, n_head=2}\r");
  REQUIRE(shows(repl, "GPT(L=2, d=64"));

  // Tab completes table fields and bound objects' properties.
  repl.send("string.for\t(\"%d\", 7)\r");
  REQUIRE(shows(repl, "7\r\n"));
  repl.send("cfg = model.gpt{vocab=256, ctx=64, d_model=64, n_layer=2, n_head=2}\r");
  repl.send("cfg.non_emb\t\r");
  REQUIRE(shows(repl, "100096"));  // 2·(12·64² + 13·64) + 2·64

  // Ctrl-C interrupts an endless loop and returns to the prompt, with state intact: `line` runs,
  // prints `shown` and loops until Ctrl-C.
  auto interrupt_loop = [&](const std::string& line, const std::string& shown) {
    repl.send(line + "\r");
    REQUIRE(shows(repl, shown));
    repl.interrupt();
    REQUIRE(shows(repl, "interrupted!"));
  };
  interrupt_loop("print('loop' .. 'ing') while true do end", "looping");
  repl.send("twice(50)\r");
  REQUIRE(shows(repl, "100"));
  // Inside a coroutine too (created before the call, as by an earlier line), and in one it creates.
  repl.send("spin = coroutine.wrap(function() print('spin' .. 'ning') while true do end end)\r");
  interrupt_loop("spin()", "spinning");
  interrupt_loop("coroutine.wrap(function() print('inner ' .. 'loop') while true do end end)()", "inner loop");
  // A coroutine.resume that catches its coroutine's interruption does not let the line go on.
  repl.send("co = coroutine.create(function() print('co' .. 'looping') while true do end end)\r");
  interrupt_loop("print(coroutine.resume(co)) print('went ' .. 'on')", "colooping");
  repl.send("twice(60)\r");
  REQUIRE(shows(repl, "120"));
  CHECK(repl.output().find("went on") == std::string::npos);

  // An error shows a message and the session goes on.
  repl.send("error('oops')\r");
  REQUIRE(shows(repl, "oops"));
  repl.send("help(model)\r");
  REQUIRE(shows(repl, "model.shape_for{ params = N"));

  // Wait for the prompt before typing: keys typed while a computation runs are echoed by the
  // terminal, and a Ctrl-C then flushes them before readline reads them.
  repl.send("'ready'\r");
  REQUIRE(shows(repl, "ready\r\n"));
  REQUIRE(shows(repl, "> "));

  // Ctrl-C at the prompt clears the line; on an empty prompt it says how to leave, and never leaves:
  // a second one there ended the session, when a Ctrl-C meant for a computation came just after it.
  repl.send("half-typed");
  REQUIRE(shows(repl, "half-typed"));  // read by readline (ISIG flushes unread input)
  repl.interrupt();
  REQUIRE(shows(repl, "> "));
  for (int i = 0; i < 3; ++i) {
    repl.interrupt();
    REQUIRE(shows(repl, "(to leave, press Ctrl-D or type os.exit())"));
    REQUIRE(shows(repl, "> "));
  }
  repl.send("twice(70)\r");  // the session and its functions are still there
  REQUIRE(shows(repl, "140\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  const int status = repl.wait();
  if (status != 0) shows(repl, "(the REPL did not leave)");
  CHECK(status == 0);

  std::ifstream history(home + "/.scalelab_history");
  std::stringstream text;
  text << history.rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("1 + 2"));
  CHECK_THAT(text.str(), Catch::Contains("function twice(x)\nreturn 2 * x end"));
}

TEST_CASE("Ctrl-D leaves the REPL") {
  Pty repl({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  // The banner says where to start: it gave the version alone.
  REQUIRE(shows(repl, "help() lists the modules, help(x) documents x; Tab completes"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

namespace {
// Three training runs in a row, each long enough to be interrupted in the middle (tens of seconds).
const char kThreeRuns[] =
    "local src = data.synthetic{ kind = 'markov', vocab = 64, order = 1, seed = 3, tokens = 2e5 }\n"
    "for i = 1, 3 do\n"
    "  local s = data.sampler{ corpus = src, tokens = 4e6, unique_tokens = 'all', seq_len = 32, batch = 8 }\n"
    "  print('start ' .. i) io.stdout:flush()\n"
    "  local r = train.run{ model = model.gpt{ vocab = 64, ctx = 32, d_model = 64, n_layer = 2, n_head = 2 },\n"
    "                       data = s, tokens = 4e6, lr = 1e-3, threads = 1,\n"
    "                       progress = function(p) if p.step == 2 then print('stepping ' .. i) io.stdout:flush() end end }\n"
    "  print('end ' .. i .. ' ' .. r.status) io.stdout:flush()\n"
    "end\n";
}  // namespace

TEST_CASE("Ctrl-C in a script stops the script after the interrupted call, with status 130") {
  const std::string dir = temp_dir();
  write_file(dir + "/three.lua", kThreeRuns);
  Pty script({SCALELAB_BINARY, dir + "/three.lua"}, {"HOME=" + dir});
  REQUIRE(shows(script, "stepping 1"));  // the first run is training (not in its initial evaluation)
  script.interrupt();
  const int status = script.wait(30);
  INFO(script.output());
  CHECK(status == 130);
  CHECK(script.output().find("start 2") == std::string::npos);
  // Where the run stopped, and that nothing can resume it.
  CHECK(script.output().find("interrupted by the user after ") != std::string::npos);
  CHECK(script.output().find("(no checkpoint: give train.run checkpoint = ") != std::string::npos);
}

namespace {
// kThreeRuns with a checkpoint per run, stopped by `stop` in its first run: the script ends there
// with `status`, saying why the run stopped, which checkpoint holds it and how to resume.
void script_stops_at_checkpoint(const std::function<void(Pty&)>& stop, int status, const std::string& cause) {
  const std::string dir = temp_dir();
  std::string body = kThreeRuns;
  body.replace(body.find("threads = 1,"), 12, "threads = 1, checkpoint = 'run' .. i .. '.ckpt',");
  write_file(dir + "/three.lua", body);
  Pty script({"/bin/sh", "-c", "cd '" + dir + "' && exec '" SCALELAB_BINARY "' three.lua"}, {"HOME=" + dir});
  REQUIRE(shows(script, "stepping 1"));
  stop(script);
  CHECK(script.wait(30) == status);
  INFO(script.output());
  CHECK(script.output().find(cause) != std::string::npos);
  CHECK(script.output().find("; the checkpoint run1.ckpt holds it: run the script again to resume from there") !=
        std::string::npos);
  CHECK(script.output().find("start 2") == std::string::npos);
  CHECK(std::ifstream(dir + "/run1.ckpt").good());
}
}  // namespace

TEST_CASE("Ctrl-C in a loop of the user's says the line where it was\, also inside a library function's callback") {
  // "interrupted!" was located at the caller of the function running: the library's own line
  // ("stdlib/scalelab/sweep.lua:387: interrupted!") for a callback of sweep.filter, the line that
  // called f for a loop in f.
  const std::string dir = temp_dir();
  write_file(dir + "/loop.lua",
             "local function f()\n  while true do end\nend\n\nsweep.filter(sweep.grid{ N = { 1e6 }, D = { 1e7 } }, "
             "function(p)\n  print('loop' .. 'ing') io.stdout:flush()\n  f()\nend)\n");
  Pty script({SCALELAB_BINARY, dir + "/loop.lua"}, {"HOME=" + dir});
  REQUIRE(shows(script, "looping"));
  script.expect("(never shown)", 0.5);  // into the loop, past print
  script.interrupt();
  CHECK(script.wait(30) == 130);
  INFO(script.output());
  CHECK(script.output().find("loop.lua:2: interrupted!") != std::string::npos);
  CHECK(script.output().find("sweep.lua:387: interrupted!") == std::string::npos);
  // In the REPL, a loop typed at the prompt: its line.
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("for i = 1, 3 do\r");
  repl.send("print('spin' .. 'ning') while true do end end\r");
  REQUIRE(shows(repl, "spinning"));
  repl.expect("(never shown)", 0.5);
  repl.interrupt();
  REQUIRE(shows(repl, "stdin:2: interrupted!"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("Ctrl-C in a script's train.run with a checkpoint says where it is and how to resume") {
  script_stops_at_checkpoint([](Pty& script) { script.interrupt(); }, 130, "interrupted by the user after ");
}

TEST_CASE("SIGTERM in a script's train.run stops it as Ctrl-C does: checkpoint written, status 143") {
  // kill, timeout and batch schedulers end a job with SIGTERM: the run in flight keeps its work.
  script_stops_at_checkpoint([](Pty& script) { script.signal(SIGTERM); }, 143, "interrupted by SIGTERM after ");
}

namespace {
// A data source written in Lua whose batches take most of each step's time: Ctrl-C mostly lands in
// its Lua code, which train.run calls back.
const char kLuaSource[] =
    "src = { vocab = 64, seq_len = 32, batch = 8, n = 0 }\n"
    "function src:next_batch()\n"
    "  self.n = self.n + 1\n"
    "  local t = {}\n"
    "  for i = 1, 8 * 33 do t[i] = (i * 7 + self.n) % 64 end\n"
    "  local x = 0\n"
    "  for i = 1, 2000000 do x = x + i end\n"
    "  return t\n"
    "end\n"
    "function src:state() return tostring(self.n) end\n"
    "function src:restore(s) self.n = tonumber(s) end\n"
    "print('start') io.stdout:flush()\n";
}  // namespace

TEST_CASE("Ctrl-C while train.run calls a Lua data source stops the run cleanly, checkpoint written") {
  // The host's hook raised \"interrupted!\" inside next_batch: the run unwound from there, without
  // its checkpoint, and in the REPL without its result.
  const std::string dir = temp_dir();
  write_file(dir + "/lua_source.lua",
             std::string(kLuaSource) +
                 "train.run{ model = model.gpt{ vocab = 64, ctx = 32, d_model = 32, n_layer = 1, n_head = 2 },\n"
                 "           data = src, steps = 100000, progress = false, threads = 1, checkpoint = 'run.ckpt' }\n"
                 "print('after the run')\n");
  Pty script({"/bin/sh", "-c", "cd '" + dir + "' && exec '" SCALELAB_BINARY "' lua_source.lua"}, {"HOME=" + dir});
  REQUIRE(shows(script, "start"));
  script.expect("(never shown)", 1.0);
  script.interrupt();
  const int status = script.wait(30);
  INFO(script.output());
  CHECK(status == 130);
  CHECK(script.output().find("; the checkpoint run.ckpt holds it: run the script again to resume from there") !=
        std::string::npos);
  CHECK(script.output().find("after the run") == std::string::npos);
  std::ifstream checkpoint(dir + "/run.ckpt");
  CHECK(checkpoint.good());

  write_file(dir + "/source.lua", kLuaSource);
  Pty session({SCALELAB_BINARY, "-i", dir + "/source.lua"}, {"HOME=" + dir});
  REQUIRE(shows(session, "start"));
  REQUIRE(shows(session, "> "));
  session.send("r = train.run{ model = model.gpt{ vocab = 64, ctx = 32, d_model = 32, n_layer = 1, n_head = 2 }, "
               "data = src, steps = 100000, progress = false, threads = 1 }\r");
  session.expect("(never shown)", 1.0);
  session.interrupt();
  REQUIRE(shows(session, "> "));
  session.send("print('status: ' .. r.status)\r");
  REQUIRE(shows(session, "status: interrupted"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}

namespace {
// In a REPL session: the line `line` (its "%s" replaced by a train.run's arguments for a run of
// minutes), then a moment for the run to get going.
void start_long_line(Pty& session, std::string line) {
  line.replace(line.find("%s"), 2,
               "model = model.gpt{ vocab = 64, ctx = 32, d_model = 64, n_layer = 2, n_head = 2 }, "
               "data = data.sampler{ corpus = src, tokens = 4e6, unique_tokens = 'all', seq_len = 32, batch = 8 }, "
               "tokens = 4e6, lr = 1e-3, progress = false, threads = 1");
  REQUIRE(shows(session, "> "));
  session.send("src = data.synthetic{ kind = 'markov', vocab = 64, order = 1, seed = 3, tokens = 2e5 }\r");
  REQUIRE(shows(session, "> "));
  session.send(line + "\r");
  session.expect("(never shown)", 1.5);
}

// start_long_line of r = <call>.
void start_long_run(Pty& session, const std::string& call) { start_long_line(session, "r = " + call); }

// start_long_run, Ctrl-C, then r holds the run's result, status interrupted, at the prompt.
void repl_keeps_interrupted_run(const std::string& dir, const std::string& call) {
  Pty session({SCALELAB_BINARY}, {"HOME=" + dir});
  start_long_run(session, call);
  session.interrupt();
  // r = train.run{...} prints nothing: the REPL says that the run stopped and r holds its result.
  REQUIRE(shows(session, "interrupted: Ctrl-C stopped train.run, which returned its result (status \"interrupted\""));
  REQUIRE(shows(session, "> "));
  session.send("print('status: ' .. r.status)\r");
  REQUIRE(shows(session, "status: interrupted"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}
}  // namespace

TEST_CASE("Ctrl-C in the REPL stops train.run with its result and returns to the prompt") {
  const std::string dir = temp_dir();
  write_file(dir + "/one.lua", std::string(kThreeRuns).replace(std::string(kThreeRuns).find("for i = 1, 3 do"), 15,
                                                                 "for i = 1, 1 do"));
  Pty repl({SCALELAB_BINARY, "-i", dir + "/one.lua"}, {"HOME=" + dir});
  REQUIRE(shows(repl, "stepping 1"));
  repl.interrupt();
  // The script part is not the REPL: Ctrl-C ends it (and the program, as lua -i does on an error).
  CHECK(repl.wait(30) == 130);

  repl_keeps_interrupted_run(dir, "train.run{ %s }");
}

TEST_CASE("train.run's notes on its configuration come before its progress bar\, and nothing of them after Ctrl-C") {
  // The note that the held-out split is smaller than one evaluation was printed with the result: after
  // the run, and after Ctrl-C stopped it, on the progress bar's line, past the terminal's "^C".
  Pty session({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(shows(session, "> "));
  session.send("src = data.synthetic{ kind = 'markov', vocab = 64, order = 1, seed = 3, tokens = 2e5 }\r");
  REQUIRE(shows(session, "> "));
  session.send("r = train.run{ model = model.gpt{ vocab = 64, ctx = 32, d_model = 64, n_layer = 2, n_head = 2 }, "
               "data = data.sampler{ corpus = src, tokens = 4e6, unique_tokens = 'all', seq_len = 32, batch = 8 }, "
               "tokens = 4e6, lr = 1e-3, threads = 1 }\r");
  const std::string note = "train.run: note: the held-out data holds 127 sequences of 32 tokens";
  REQUIRE(shows(session, note));
  REQUIRE(shows(session, " tokens/s  ETA "));  // the bar, drawn after the note
  session.expect("(never shown)", 1.0);
  const size_t stopped_at = session.output().size();
  session.interrupt();
  REQUIRE(shows(session, "interrupted: Ctrl-C stopped train.run, which returned its result"));
  REQUIRE(shows(session, "> "));
  const std::string out = session.output();
  const size_t said = out.find(note);
  CHECK(said < out.find(" tokens/s  ETA "));
  CHECK(out.find("note:", stopped_at) == std::string::npos);
  CHECK(out.rfind(note) == said);  // said once
  // The result keeps it.
  session.send("r.status, r.note:match('held%-out data holds 127') ~= nil\r");
  REQUIRE(shows(session, "interrupted\ttrue"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}

TEST_CASE("Ctrl-C in the REPL stops train.run called in a coroutine with its result too") {
  // The host arms its hook on the main thread; train.run disarmed only the coroutine's, so the hook
  // raised \"interrupted!\" as soon as the coroutine returned, and the result was lost.
  repl_keeps_interrupted_run(temp_dir(), "coroutine.wrap(function() return train.run{ %s } end)()");
}

TEST_CASE("Ctrl-C in the REPL during a loop of train.run calls returns to the prompt: the next run does not start") {
  // The run stopped and returned its result, and the loop went on to train the next one.
  Pty session({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  start_long_line(session, "runs = {} for i = 1, 3 do runs[i] = train.run{ %s } print('run ' .. i .. ' ' .. runs[i].status) end");
  session.interrupt();
  REQUIRE(shows(session, "run 1 interrupted"));
  REQUIRE(shows(session, "interrupted: train.run did not start, as Ctrl-C stopped a run earlier on this line"));
  REQUIRE(shows(session, "> "));
  CHECK(session.output().find("run 2") == std::string::npos);
  // The next line's runs start again.
  session.send("print('kept ' .. #runs .. ' ' .. runs[1].status)\r");
  REQUIRE(shows(session, "kept 1 interrupted"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}

// Ctrl-C pressed again (and again) while train.run finishes the step it was in, here a data source's
// batch of seconds, killed the program: the session, and every model, run and fit it held, with it.
TEST_CASE("Ctrl-C pressed again while train.run finishes its step waits for it\, and the session is kept") {
  const std::string dir = temp_dir();
  write_file(dir + "/slow_source.lua",
             "src = { vocab = 64, seq_len = 32, batch = 8, n = 0 }\n"
             "function src:next_batch()\n"
             "  self.n = self.n + 1\n"
             "  local t = {}\n"
             "  for i = 1, 8 * 33 do t[i] = (i * 7 + self.n) % 64 end\n"
             "  local start = os.clock()\n"
             "  while os.clock() - start < 2 do end\n"
             "  return t\n"
             "end\n"
             "function src:state() return tostring(self.n) end\n"
             "function src:restore(s) self.n = tonumber(s) end\n"
             "kept = 'still here'\n");
  Pty session({SCALELAB_BINARY, "-i", dir + "/slow_source.lua"}, {"HOME=" + dir});
  REQUIRE(shows(session, "> "));
  session.send("r = train.run{ model = model.gpt{ vocab = 64, ctx = 32, d_model = 32, n_layer = 1, n_head = 2 }, "
               "data = src, steps = 1000, progress = false, threads = 1 }\r");
  session.expect("(never shown)", 0.5);
  for (int i = 0; i < 3; ++i) {
    session.interrupt();
    session.expect("(never shown)", 0.2);
  }
  REQUIRE(shows(session, "(Ctrl-C again: still stopping, at the computation's next check; the session is kept."));
  REQUIRE(shows(session, "interrupted: Ctrl-C stopped train.run"));
  REQUIRE(shows(session, "> "));
  session.send("kept, r.status\r");
  REQUIRE(shows(session, "still here\tinterrupted"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}

TEST_CASE("a second Ctrl-C after train.run stopped on the first interrupts what the line does next, not the session") {
  // The first Ctrl-C left SIGINT's default action in place for the rest of the line: the second,
  // meant for the loop after the run, ended the REPL and everything computed in it.
  Pty session({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  start_long_run(session, "train.run{ %s }; print('status ' .. r.status) while true do end");
  session.interrupt();
  REQUIRE(shows(session, "status interrupted"));
  session.expect("(never shown)", 0.5);
  session.interrupt();
  REQUIRE(shows(session, "interrupted!"));
  REQUIRE(shows(session, "> "));
  session.send("print('still ' .. r.status)\r");
  REQUIRE(shows(session, "still interrupted"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}

TEST_CASE("a second Ctrl-C after a pcall in a loop caught the first returns to the prompt\, the session intact") {
  // The line catches each interruption and goes on. The second Ctrl-C ended the program (as lua.c's
  // does), and everything the session held with it; a pcall must not keep it either.
  Pty session({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(shows(session, "> "));
  session.send("kept = 'session'\r");
  REQUIRE(shows(session, "> "));
  session.send("n = 0 print('look' .. 'ing') while true do pcall(function() while true do end end) n = n + 1 end\r");
  REQUIRE(shows(session, "looking"));
  session.expect("(never shown)", 0.5);  // into the loop, past print
  session.interrupt();
  session.expect("(never shown)", 0.5);
  CHECK(session.output().find("interrupted!") == std::string::npos);  // the first: caught by the pcall
  session.interrupt();
  REQUIRE(shows(session, "interrupted!"));
  REQUIRE(shows(session, "> "));
  session.send("print(kept .. ' kept', n)\r");
  REQUIRE(shows(session, "session kept\t1"));
  REQUIRE(shows(session, "> "));
  // Short pcalls in a numeric loop, which the Ctrl-C may reach inside or between: the same.
  session.send("for i = 1, 1e12 do pcall(function() local x = i * 2 end) end print('never ' .. 'ended')\r");
  session.expect("(never shown)", 0.5);
  session.interrupt();
  session.expect("(never shown)", 0.5);
  session.interrupt();
  REQUIRE(shows(session, "> "));
  session.send("print(kept .. ' still')\r");
  REQUIRE(shows(session, "session still"));
  REQUIRE(shows(session, "> "));
  CHECK(session.output().find("never ended") == std::string::npos);
  session.send("\x04");
  CHECK(session.wait() == 0);
}

TEST_CASE("a second Ctrl-C after a pcall caught the first stops a script\, with status 130") {
  const std::string dir = temp_dir();
  write_file(dir + "/spin.lua", "print('spin' .. 'ning') io.stdout:flush()\n"
                                "while true do pcall(function() while true do end end) end\n");
  Pty script({SCALELAB_BINARY, dir + "/spin.lua"});
  REQUIRE(shows(script, "spinning"));
  script.expect("(never shown)", 0.5);
  script.interrupt();
  script.expect("(never shown)", 0.5);
  script.interrupt();
  const int status = script.wait();
  INFO(script.output());
  CHECK(status == 130);
  CHECK(script.output().find("spin.lua:2: interrupted!") != std::string::npos);
}

TEST_CASE("SIGTERM in the REPL stops train.run cleanly, its checkpoint written, and ends the session with status 143") {
  // Not Ctrl-C: the session does not go on to its prompt, but nor does the run die mid-step.
  const std::string dir = temp_dir();
  Pty session({SCALELAB_BINARY}, {"HOME=" + dir});
  start_long_run(session, "train.run{ %s, checkpoint = '" + dir + "/r.ckpt' }");
  session.signal(SIGTERM);
  const int status = session.wait(30);
  INFO(session.output());
  CHECK(status == 143);
  CHECK(std::ifstream(dir + "/r.ckpt").good());
}

TEST_CASE("an error from a library function called on the typed line names the line, as in a script") {
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  // f:save(...) alone on the line was a tail call ("return f:save(...)"): the line's frame was gone
  // and the error carried no location. A Lua library function (plot, through checks.error_at_user)...
  repl.send("f = plot.figure{ ylog = true }; f:points{ x = {1, 10, 100}, y = {3, 2, -1}, label = 'a' }\r");
  REQUIRE(shows(repl, "> "));
  repl.send("f:save('" + dir + "/neg.svg')\r");
  REQUIRE(shows(repl, "stdin:1: plot: series 1 (points 'a') has y = -1"));
  REQUIRE(shows(repl, "> "));
  // ... and a C++ one (lua::raise) alike.
  repl.send("model.gpt{ vocab = 0, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }\r");
  REQUIRE(shows(repl, "stdin:1: model.gpt: vocab must be a positive integer"));
  REQUIRE(shows(repl, "> "));
  // The traceback starts at the function the user called: the library's inner frames are left out.
  const std::string out = repl.output();
  CHECK(out.find("checks.lua") == std::string::npos);
  CHECK(out.find("error_at_user") == std::string::npos);
  CHECK(out.find("in method 'save'") != std::string::npos);
  // As in lua.c's REPL, messages are not prefixed with the program's name.
  CHECK(out.find("scalelab: stdin:1:") == std::string::npos);
  // The line's own index errors name line 1, as the line is typed.
  repl.send("x = {}; return x.y.z\r");
  REQUIRE(shows(repl, "stdin:1: attempt to index a nil value (field 'y')"));
  REQUIRE(shows(repl, "> "));
  repl.send("nothing.here\r");
  REQUIRE(shows(repl, "stdin:1: attempt to index a nil value (global 'nothing')"));
  REQUIRE(shows(repl, "> "));
  // `return` typed out is the same line: the library's error names it too.
  repl.send("return f:save('" + dir + "/neg.svg')\r");
  REQUIRE(shows(repl, "stdin:1: plot: series 1 (points 'a') has y = -1"));
  REQUIRE(shows(repl, "> "));
  // `...` at the top level of a line is the chunk's: empty, as in lua.c.
  repl.send("select('#', ...)\r");
  REQUIRE(shows(repl, "0\r\n"));
  REQUIRE(shows(repl, "> "));
  // Expressions still show all their values; a trailing comment or semicolon changes nothing.
  repl.send("1, nil, 3 -- three\r");
  REQUIRE(shows(repl, "1\tnil\t3"));
  repl.send("'quiet';\r");
  repl.send("'loud'\r");
  REQUIRE(shows(repl, "loud"));
  CHECK(repl.output().find("quiet\r\n") == std::string::npos);
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("with -i the REPL opens after a script that fails, with the error printed first") {
  const std::string dir = temp_dir();
  write_file(dir + "/fails.lua", "kept = 41\nerror('the script failed')\nnever = true\n");
  Pty repl({SCALELAB_BINARY, "-i", dir + "/fails.lua"}, {"HOME=" + dir});
  REQUIRE(shows(repl, "fails.lua:2: the script failed"));
  REQUIRE(shows(repl, "> "));
  repl.send("kept + 1, never\r");
  REQUIRE(shows(repl, "42\tnil"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 1);  // the script failed: the status says so after the REPL
}

TEST_CASE("a multi-line entry comes back whole in the next session's history") {
  const std::string dir = temp_dir();
  {
    Pty first({SCALELAB_BINARY}, {"HOME=" + dir});
    REQUIRE(shows(first, "> "));
    first.send("a = 1\r");
    REQUIRE(shows(first, "> "));
    first.send("function thrice(x)\r");
    REQUIRE(shows(first, ">> "));
    first.send("return 3 * x end\r");
    REQUIRE(shows(first, "> "));
    first.send("b = 2\r");
    REQUIRE(shows(first, "> "));
    first.send("\x04");
    CHECK(first.wait() == 0);
  }
  Pty second({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(second, "> "));
  second.send("\x1b[A\x1b[A\r");  // Up twice: past "b = 2" to the whole function, alone
  REQUIRE(shows(second, "> "));
  second.send("thrice(5)\r");
  REQUIRE(shows(second, "15\r\n"));
  REQUIRE(shows(second, "> "));
  // Neither neighbour ran with it (a history file read as one entry ran them all).
  second.send("a == nil and b == nil\r");
  REQUIRE(shows(second, "true\r\n"));
  REQUIRE(shows(second, "> "));
  second.send("\x04");
  CHECK(second.wait() == 0);
}

namespace {
// The entries of a history file, its "#<time>" lines left out (each entry here is one line).
std::vector<std::string> history_lines(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}
}  // namespace

TEST_CASE("an entry run again right after itself is kept once in the history\, also across sessions") {
  const std::string dir = temp_dir();
  for (int session = 0; session < 2; ++session) {
    Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
    REQUIRE(shows(repl, "> "));
    for (const char* line : {"x + 40", "x = 1", "x", "x", "x", "x = 2", "x"}) {
      repl.send(std::string(line) + "\r");
      REQUIRE(shows(repl, "> "));
    }
    // Up twice: past "x" to "x = 2", not to another "x".
    repl.send("\x1b[A\x1b[A\r");
    REQUIRE(shows(repl, "> "));
    repl.send("x + 40\r");
    REQUIRE(shows(repl, "42\r\n"));
    REQUIRE(shows(repl, "> "));
    repl.send("\x04");
    CHECK(repl.wait() == 0);
  }
  // The second session's first entry, "x + 40", is the first session's last: kept once.
  const std::vector<std::string> one = {"x = 1", "x", "x = 2", "x", "x = 2", "x + 40"};
  std::vector<std::string> both = {"x + 40"};
  both.insert(both.end(), one.begin(), one.end());
  both.insert(both.end(), one.begin(), one.end());
  CHECK(history_lines(dir + "/.scalelab_history") == both);
}

// The history was made by fopen, readable by every user of the machine (0644 under the usual umask):
// the lines typed can hold a token or a password. Readline and bash make theirs 0600.
TEST_CASE("the history file is made readable by its owner alone\, as readline makes it") {
  const std::string dir = temp_dir();
  const mode_t previous = ::umask(022);  // the usual one, which the REPL inherits
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  ::umask(previous);
  REQUIRE(shows(repl, "> "));
  repl.send("token = 'not for others'\r");
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
  struct stat info {};
  REQUIRE(::stat((dir + "/.scalelab_history").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
}

TEST_CASE("a history file that cannot be written is said once, and the session goes on") {
  // Every line was silently lost to the next session.
  const std::string dir = temp_dir();
  REQUIRE(::mkdir((dir + "/.scalelab_history").c_str(), 0755) == 0);  // a folder: even root cannot write it
  Pty session({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(session, "> "));
  session.send("1 + 1\r");
  REQUIRE(shows(session, "scalelab: the history cannot be saved in " + dir + "/.scalelab_history: Is a directory; "
                         "this session's lines will not be there next time"));
  REQUIRE(shows(session, "2\r\n"));
  session.send("2 + 2\r");
  REQUIRE(shows(session, "4\r\n"));
  REQUIRE(shows(session, "> "));
  CHECK(session.output().find("cannot be saved") == session.output().rfind("cannot be saved"));  // once
  // Up still recalls the session's own lines.
  session.send("\x1b[A\r");
  REQUIRE(shows(session, "4\r\n"));
  REQUIRE(shows(session, "> "));
  session.send("\x04");
  CHECK(session.wait() == 0);
}

TEST_CASE("without HOME the history is kept for the session only\, which the REPL says once at the start") {
  // It went to .scalelab_history in whatever folder the REPL was started in.
  for (const std::string how : {"unset HOME", "HOME="}) {
    INFO(how);
    const std::string dir = temp_dir();
    Pty session({"/bin/sh", "-c", how + "; cd '" + dir + "' && exec '" + SCALELAB_BINARY + "'"});
    REQUIRE(shows(session, "scalelab: HOME is not set (or empty), so this session's history will not be saved; set "
                           "HOME to keep it in $HOME/.scalelab_history"));
    REQUIRE(shows(session, "> "));
    session.send("1 + 1\r");
    REQUIRE(shows(session, "2\r\n"));
    REQUIRE(shows(session, "> "));
    session.send("\x1b[A\r");  // Up still recalls the session's own lines
    REQUIRE(shows(session, "2\r\n"));
    REQUIRE(shows(session, "> "));
    session.send("\x04");
    CHECK(session.wait() == 0);
    CHECK(session.output().find("will not be saved") == session.output().rfind("will not be saved"));  // once
    struct stat info {};
    CHECK(::stat((dir + "/.scalelab_history").c_str(), &info) != 0);
  }
}

TEST_CASE("a long history is trimmed by whole entries, so a multi-line entry survives at its start") {
  const std::string dir = temp_dir();
  {
    std::ofstream file(dir + "/.scalelab_history");
    for (int i = 0; i < 1200; ++i)
      file << "#" << 1700000000 + i << "\nfunction f" << i << "()\n  return " << i << "\nend\n";
  }
  {
    Pty session({SCALELAB_BINARY}, {"HOME=" + dir});
    REQUIRE(shows(session, "> "));
    session.send("x = 1\r");
    REQUIRE(shows(session, "> "));
    session.send("\x04");
    CHECK(session.wait() == 0);
  }
  std::ifstream file(dir + "/.scalelab_history");
  std::string first;
  std::getline(file, first);
  CHECK(first.rfind("#", 0) == 0);  // a timestamp: the file starts with a whole entry
  Pty next({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(next, "> "));
  next.send("\x1b[A\x1b[A\r");  // Up twice: past "x = 1" to the last function, whole
  REQUIRE(shows(next, "> "));
  next.send("f1199()\r");
  REQUIRE(shows(next, "1199\r\n"));
  REQUIRE(shows(next, "> "));
  next.send("\x04");
  CHECK(next.wait() == 0);
}

TEST_CASE("a history that cannot be rewritten whole when trimmed is left as it was\, and a link stays a link") {
  // Trimmed in place, the file was emptied first: a write that then failed (a full disk, a quota; here
  // a limit on file sizes) lost every entry it held.
  const std::string dir = temp_dir();
  auto write_history = [](const std::string& path) {
    std::ofstream file(path);
    for (int i = 0; i < 1200; ++i) file << "#" << 1700000000 + i << "\nfunction f" << i << "()\n  return " << i << "\nend\n";
  };
  auto read = [](const std::string& path) {
    std::ifstream file(path);
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  };
  write_history(dir + "/.scalelab_history");
  const std::string before = read(dir + "/.scalelab_history");
  {
    // Files of 8 KiB at most (16 where ulimit counts KiB), written with SIGXFSZ ignored: EFBIG.
    Pty session({"/bin/sh", "-c", "trap '' XFSZ; ulimit -f 16 && exec '" SCALELAB_BINARY "'"}, {"HOME=" + dir});
    REQUIRE(shows(session, "> "));
    session.send("x = 1\r");
    REQUIRE(shows(session, "the history cannot be saved in " + dir + "/.scalelab_history: File too large"));
    REQUIRE(shows(session, "> "));
    session.send("\x04");
    CHECK(session.wait() == 0);
  }
  CHECK(read(dir + "/.scalelab_history") == before);
  // Trimmed through a link (dotfiles kept elsewhere), the file it points to is rewritten.
  const std::string linked = temp_dir();
  write_history(linked + "/history");
  REQUIRE(::symlink((linked + "/history").c_str(), (linked + "/.scalelab_history").c_str()) == 0);
  {
    Pty session({SCALELAB_BINARY}, {"HOME=" + linked});
    REQUIRE(shows(session, "> "));
    session.send("x = 1\r");
    REQUIRE(shows(session, "> "));
    session.send("\x04");
    CHECK(session.wait() == 0);
  }
  struct stat info {};
  REQUIRE(::lstat((linked + "/.scalelab_history").c_str(), &info) == 0);
  CHECK(S_ISLNK(info.st_mode));
  const std::string trimmed = read(linked + "/history");
  CHECK(trimmed.rfind("#", 0) == 0);
  CHECK(trimmed.find("function f301()") != std::string::npos);
  CHECK(trimmed.find("function f300()") == std::string::npos);
  CHECK(trimmed.find("\nx = 1\n") != std::string::npos);
}

TEST_CASE("a history trimmed by one session keeps the entries another session sharing HOME added") {
  // The trim rewrote the file from the trimming session's own list: every entry another session had
  // added since that one started was lost.
  const std::string dir = temp_dir();
  {
    std::ofstream file(dir + "/.scalelab_history");
    for (int i = 0; i < 998; ++i) file << "#" << 1700000000 + i << "\nold" << i << " = " << i << "\n";
  }
  Pty first({SCALELAB_BINARY}, {"HOME=" + dir});  // reads the 998
  REQUIRE(shows(first, "> "));
  {
    Pty second({SCALELAB_BINARY}, {"HOME=" + dir});
    REQUIRE(shows(second, "> "));
    second.send("from_second = 2\r");
    REQUIRE(shows(second, "> "));
    second.send("\x04");
    CHECK(second.wait() == 0);
  }
  for (const std::string line : {"a1 = 1", "a2 = 2", "a3 = 3"}) {  // the third passes 1000: trimmed
    first.send(line + "\r");
    REQUIRE(shows(first, "> "));
  }
  first.send("\x04");
  CHECK(first.wait() == 0);
  std::ifstream file(dir + "/.scalelab_history");
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);)
    if (line.rfind("#", 0) != 0) lines.push_back(line);
  REQUIRE(lines.size() == 900);  // trimmed to 900 entries, the newest kept, in order
  CHECK(lines[0] == "old102 = 102");
  CHECK(lines[895] == "old997 = 997");
  CHECK(lines[896] == "from_second = 2");
  CHECK(lines[897] == "a1 = 1");
  CHECK(lines[899] == "a3 = 3");
}

TEST_CASE("an entry another session appends while a trim rewrites the history is kept") {
  // The trim reads the file again, then renames the rewritten file onto it: an entry another session
  // appended between the two went to the file the rename replaced, and was lost. The trimming session
  // pauses in that window (SCALELAB_TEST_HISTORY_PAUSE, a hook for tests) while the other appends.
  const std::string dir = temp_dir();
  const std::string history = dir + "/.scalelab_history", marker = dir + "/trim-paused";
  auto add_entries = [&](int from, int to) {
    std::ofstream file(history, std::ios::app);
    for (int i = from; i < to; ++i) file << "#" << 1700000000 + i << "\nold" << i << " = " << i << "\n";
  };
  add_entries(0, 10);
  Pty appender({SCALELAB_BINARY}, {"HOME=" + dir});  // reads 10 entries: its next one is appended
  REQUIRE(shows(appender, "> "));
  add_entries(10, 1000);
  Pty trimmer({SCALELAB_BINARY}, {"HOME=" + dir, "SCALELAB_TEST_HISTORY_PAUSE=" + marker});  // reads 1000
  REQUIRE(shows(trimmer, "> "));
  trimmer.send("from_trimmer = 1\r");  // the 1001st: trimmed to 900
  struct stat info {};
  for (int i = 0; i < 1000 && ::stat(marker.c_str(), &info) != 0; ++i) ::usleep(10000);
  REQUIRE(::stat(marker.c_str(), &info) == 0);  // in the window: the file read, not yet replaced
  appender.send("from_appender = 2\r");
  // Its prompt comes back once the entry is saved: at once where nothing waits for the trim.
  const bool appended = appender.expect("> ", 1.5);
  REQUIRE(::unlink(marker.c_str()) == 0);
  REQUIRE(shows(trimmer, "> "));
  if (!appended) REQUIRE(shows(appender, "> "));
  for (Pty* session : {&trimmer, &appender}) {
    session->send("\x04");
    CHECK(session->wait() == 0);
  }
  std::ifstream file(history);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);)
    if (line.rfind("#", 0) != 0) lines.push_back(line);
  REQUIRE(lines.size() == 901);  // the trim's 900, then the entry appended after it
  CHECK(lines[0] == "old101 = 101");
  CHECK(lines[898] == "old999 = 999");
  CHECK(lines[899] == "from_trimmer = 1");
  CHECK(lines[900] == "from_appender = 2");
}

TEST_CASE("train.run's progress bar on a terminal: speed and ETA when training, 'simulated' when drawn") {
  const std::string dir = temp_dir();
  write_file(dir + "/bars.lua",
             "local gpt = model.gpt{ vocab = 64, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }\n"
             "local src = data.synthetic{ kind = 'markov', vocab = 64, order = 1, seed = 3, tokens = 1e5 }\n"
             "local s = data.sampler{ corpus = src, tokens = 2e4, unique_tokens = 'all', seq_len = 16, batch = 8 }\n"
             "train.run{ model = gpt, data = s, tokens = 2e4, lr = 1e-3, threads = 1 }\n"
             "print('trained') io.stdout:flush()\n"
             "train.simulate{ model = gpt, tokens = 1e6, batch = 8, seq_len = 16,\n"
             "                law = { E = 1.0, A = 10, alpha = 0.3, B = 50, beta = 0.3 } }\n"
             "print('simulated') io.stdout:flush()\n");
  Pty script({SCALELAB_BINARY, dir + "/bars.lua"}, {"HOME=" + dir});
  const int status = script.wait(60);
  const std::string& out = script.output();
  INFO(out);
  REQUIRE(status == 0);
  const size_t trained = out.find("trained"), simulated = out.find("simulated\r\n");
  REQUIRE(trained != std::string::npos);
  REQUIRE(simulated != std::string::npos);
  // The trained run's bar: tokens done of planned, loss, speed and a time left.
  const std::string training = out.substr(0, trained), drawing = out.substr(trained, simulated - trained);
  CHECK(training.find("/20k tokens  loss ") != std::string::npos);
  CHECK(training.find(" tokens/s  ETA ") != std::string::npos);
  // The simulated one's: the same, but no speed or ETA (it takes no training time).
  CHECK(drawing.find("/1M tokens  loss ") != std::string::npos);
  CHECK(drawing.find("  simulated") != std::string::npos);
  CHECK(drawing.find("tokens/s") == std::string::npos);
  CHECK(drawing.find("ETA") == std::string::npos);
}

TEST_CASE("train.run's progress bar fits a narrow terminal: each redraw is one row and never a wrapped one") {
  const std::string dir = temp_dir();
  write_file(dir + "/narrow.lua",
             "local gpt = model.gpt{ vocab = 64, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }\n"
             "local src = data.synthetic{ kind = 'markov', vocab = 64, order = 1, seed = 3, tokens = 1e5 }\n"
             "local s = data.sampler{ corpus = src, tokens = 2e4, unique_tokens = 'all', seq_len = 16, batch = 8 }\n"
             "train.run{ model = gpt, data = s, tokens = 2e4, lr = 1e-3, threads = 1 }\n"
             "print('trained') io.stdout:flush()\n");
  // 60 columns: the bar's full line (about 100 characters) wrapped, and "\r" went back to the start
  // of its last row only, leaving a row behind at every redraw.
  Pty script({"/bin/sh", "-c", "stty cols 60 && exec '" SCALELAB_BINARY "' '" + dir + "/narrow.lua'"}, {"HOME=" + dir});
  const int status = script.wait(60);
  const std::string& out = script.output();
  INFO(out);
  REQUIRE(status == 0);
  const std::string training = out.substr(0, out.find("trained"));
  int redraws = 0;
  for (size_t at = training.find("\r\033[K["); at != std::string::npos; at = training.find("\r\033[K[", at + 1)) {
    const size_t start = at + 4, end = training.find('\r', start);
    const std::string line = training.substr(start, end == std::string::npos ? std::string::npos : end - start);
    INFO(line);
    CHECK(line.size() <= 59);
    CHECK(line.find("tokens  loss ") != std::string::npos);
    ++redraws;
  }
  CHECK(redraws > 0);
}

TEST_CASE("Tab completion after a line that broke the REPL's own module: no candidates, and the REPL goes on") {
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("package.loaded['scalelab.repl'] = 5\r");
  REQUIRE(shows(repl, "> "));
  // Readline's completion hook indexed the 5 outside any pcall: Lua's panic ended the program.
  repl.send("string.for\t\x15");  // Tab, then Ctrl-U clears the line
  repl.send("print('still' .. ' here')\r");
  REQUIRE(shows(repl, "still here"));
  CHECK(repl.output().find("PANIC") == std::string::npos);
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

// Readline breaks words at a quote, so Tab in print("string.fo completed string.format inside the
// string (and closed the quote after it). The REPL gives the completion the text before the word, the
// unfinished entry's earlier lines too: inside a string or a comment there is nothing to complete.
TEST_CASE("Tab inside a string or a comment completes nothing\, also in a long string begun on an earlier line") {
  Pty repl({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  repl.send("x = 'string.fo\t\t' .. 'end'\r");
  repl.send("x\r");
  REQUIRE(shows(repl, "string.foend\r\n"));
  repl.send("y = [[\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("string.fo\t\t]]\r");
  repl.send("'<' .. y .. '>'\r");
  REQUIRE(shows(repl, "<string.fo>"));
  // Outside a string it completes as before, on the line after one too.
  repl.send("z = [[a]] .. string.fo\t('%d', 7)\r");
  repl.send("z\r");
  REQUIRE(shows(repl, "a7\r\n"));
  CHECK(repl.output().find("string.format'") == std::string::npos);
  REQUIRE(shows(repl, "> "));  // Ctrl-D typed before readline reads the line is no Ctrl-D to it
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("Ctrl-Z at the prompt suspends the REPL as job control does\, and fg brings it back with its line") {
  // ISIG is off while readline reads (Ctrl-C comes as a key), so Ctrl-Z only beeped and the REPL went
  // on, where lua and python are suspended. A shell with job control runs it here, as a terminal's does.
  const std::string dir = temp_dir();
  Pty shell({"/bin/sh", "-c", "set -m; '" SCALELAB_BINARY "'; echo \"[suspended $?]\"; fg"}, {"HOME=" + dir});
  REQUIRE(shows(shell, "> "));
  shell.send("x = 41\r");
  REQUIRE(shows(shell, "> "));
  shell.send("x + 1");
  REQUIRE(shows(shell, "x + 1"));
  shell.send("\x1a");
  REQUIRE(shows(shell, "[suspended 148]"));  // 128 + SIGTSTP: the shell has the terminal back
  // fg: the REPL resumes, redraws its prompt and the line being edited, which Enter then runs.
  REQUIRE(shows(shell, "> x + 1"));
  shell.send("\r");
  REQUIRE(shows(shell, "42\r\n"));
  REQUIRE(shows(shell, "> "));
  shell.send("\x04");
  CHECK(shell.wait() == 0);
}

TEST_CASE("lines pasted together run one by one as if typed\, and an unfinished statement in them still continues") {
  // A terminal with bracketed paste (TERM=xterm) hands readline the pasted text whole, line breaks
  // and all: "1+1\n2+2" then failed as one chunk ("syntax error near '2'") and "x = 1\nx" waited
  // on a ">>" prompt for more.
  Pty repl(pasting_terminal(), {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  auto paste = [&](const std::string& text) { ::paste(repl, text); };
  paste("10+1\r20+2\r");
  REQUIRE(shows(repl, "11\r\n"));
  REQUIRE(shows(repl, "22\r\n"));
  REQUIRE(shows(repl, "> "));
  paste("x = 40\rx + 2");
  REQUIRE(shows(repl, "42\r\n"));
  REQUIRE(shows(repl, "> "));
  // A function over several pasted lines continues as typed, and the lines after it run in turn.
  paste("function add(a, b)\r  return a + b\rend\radd(300, 33)\r");
  REQUIRE(shows(repl, "333\r\n"));
  REQUIRE(shows(repl, "> "));
  // An error stops the paste: the lines after it do not run (the next test says more).
  paste("error('first ' .. 'fails')\r'second ' .. 'runs'\r");
  REQUIRE(shows(repl, "first fails"));
  REQUIRE(shows(repl, "the 1 line after it did not run"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("second runs") == std::string::npos);
  // A paste that ends inside a statement continues on the next prompt.
  paste("function mul(a, b)\r  return a * b\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("mul(6, 7) + 1000\r");
  REQUIRE(shows(repl, "1042\r\n"));
  REQUIRE(shows(repl, "> "));
  // Ctrl-C stops the line running and drops the rest of the paste, as it flushes keys typed ahead.
  paste("print('spin' .. 'ning') while true do end\rprint('never ' .. 'run')\r");
  REQUIRE(shows(repl, "spinning"));
  repl.interrupt();
  REQUIRE(shows(repl, "interrupted!"));
  repl.send("'after ' .. 'Ctrl-C'\r");
  REQUIRE(shows(repl, "after Ctrl-C"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("never run") == std::string::npos);
  CHECK(repl.output().find("syntax error") == std::string::npos);
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("an error in a paste stops it: the lines after it do not run\, and Up recalls them") {
  // The lines after an error ran, each as if typed: a loop's body whose first line had a syntax
  // error ran once, alone; its `end` was an error of its own; and a paste's last line that began a
  // statement left the next line typed continuing it on ">>".
  Pty repl(pasting_terminal(), {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  paste(repl, "for i = 1, 2 do\r  x = = i\r  print('body ' .. 'ran')\rend\rfunction later(\r");
  REQUIRE(shows(repl, "stdin:2: unexpected symbol near '='"));
  REQUIRE(shows(repl, "(the error stopped the paste at its line 2: the 3 lines after it did not run; Up recalls them)"));
  REQUIRE(shows(repl, "> "));
  repl.send("'typed ' .. 'alone'\r");  // a line of its own, not the end of "function later("
  REQUIRE(shows(repl, "typed alone"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("body ran") == std::string::npos);
  CHECK(repl.output().find("'<eof>' expected") == std::string::npos);
  CHECK(repl.output().find(">> ") == std::string::npos);
  // A runtime error stops it too; Up brings back the lines not run, to run once the error is mended.
  paste(repl, "n = 1\rn = n + nil\r\rn = n + 10\rn = n * 2\r\r");
  REQUIRE(shows(repl, "stdin:2: attempt to perform arithmetic on a nil value"));
  REQUIRE(shows(repl, "(the error stopped the paste at its line 2: the 2 lines after it did not run; Up recalls them)"));
  REQUIRE(shows(repl, "> "));
  repl.send("n\r");
  REQUIRE(shows(repl, "1\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x1b[A\x1b[A\r");  // Up twice: past "n" to the lines not run
  REQUIRE(shows(repl, "> "));
  repl.send("n\r");
  REQUIRE(shows(repl, "22\r\n"));
  REQUIRE(shows(repl, "> "));
  // A paste whose error is on its last line, or before blank lines only, says nothing more.
  paste(repl, "nil + 1\r\r\r");
  REQUIRE(shows(repl, "stdin:1: attempt to perform arithmetic on a nil value"));
  REQUIRE(shows(repl, "> "));
  repl.send("'last ' .. 'line'\r");
  REQUIRE(shows(repl, "last line"));
  // Ctrl-D only once the prompt is up: sent while the terminal is still in cooked mode between two
  // reads, the line discipline takes it as its end-of-file mark, which the switch to readline's raw
  // mode discards, and the session waits on.
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("stopped the paste at its line 1") == std::string::npos);
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("an error in a pasted line names that line of the paste\, and a typed line stays line 1") {
  // Each pasted line was compiled alone, as line 1: an error in the paste's fifth line said
  // "stdin:1:" as one in its first would, and nothing told which line of the paste had failed.
  Pty repl(pasting_terminal(), {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  paste(repl, "x = 1\ry = x + nil\rz = 3\r");
  REQUIRE(shows(repl, "stdin:2: attempt to perform arithmetic on a nil value"));
  REQUIRE(shows(repl, "> "));
  // A function over pasted lines 2 to 4 fails on line 3, called from line 6 (after a blank line); the
  // library's errors name the paste's line too, and so does a syntax error (each error stops its paste).
  paste(repl, "a = 1\rfunction f()\r  return 'x' .. nil\rend\r\rf()\r");
  REQUIRE(shows(repl, "stdin:3: attempt to concatenate a nil value"));
  REQUIRE(shows(repl, "stdin:6: in main chunk"));
  REQUIRE(shows(repl, "> "));
  paste(repl, "a = 2\r\rmodel.gpt{ vocab = 0 }\r");
  REQUIRE(shows(repl, "stdin:3: model.gpt"));
  REQUIRE(shows(repl, "> "));
  paste(repl, "a = 3\rb = 4\r\rx = = 2\r");
  REQUIRE(shows(repl, "stdin:4: unexpected symbol near '='"));
  REQUIRE(shows(repl, "> "));
  // Typed, an entry starts at line 1 whatever the paste before it.
  repl.send("nil + 1\r");
  REQUIRE(shows(repl, "stdin:1: attempt to perform arithmetic on a nil value"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("an entry that begins with local says once that its locals end with it") {
  // `local m = ...` typed as in a script: m was nil on the next line, without a word of why.
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("local m, n <const> = 6, 7; print(m * n)\r");
  REQUIRE(shows(repl, "42\r\n"));
  REQUIRE(shows(repl, "(note: local m, n ends with this entry, as each entry runs as a chunk of its own; to keep "
                      "them, leave out local: m, n = ...)"));
  REQUIRE(shows(repl, "> "));
  repl.send("m\r");
  REQUIRE(shows(repl, "nil\r\n"));
  // Once a session: the next local says nothing; nor does a line that does not begin with local.
  repl.send("local function f() return 1 end\r");
  repl.send("localx = 5\r");
  repl.send("'after ' .. localx\r");
  REQUIRE(shows(repl, "after 5"));
  CHECK(repl.output().find("(note: local f") == std::string::npos);
  CHECK(repl.output().find("(note: local") == repl.output().rfind("(note: local"));
  REQUIRE(shows(repl, "> "));  // Ctrl-D once readline reads again, not typed ahead while a line runs
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("a history entry with a line that looks like a time line comes back whole in the next session") {
  // Readline read "#1700000000" inside a long string as the next entry's time: the entry came back
  // as its first line alone, and its last line as an entry of its own.
  const std::string dir = temp_dir();
  {
    Pty first({SCALELAB_BINARY}, {"HOME=" + dir});
    REQUIRE(shows(first, "> "));
    first.send("s = [[\r");
    REQUIRE(shows(first, ">> "));
    first.send("#1700000000\r");
    REQUIRE(shows(first, ">> "));
    first.send("\\#1700000001\r");  // a backslash of its own before one: kept as typed
    REQUIRE(shows(first, ">> "));
    first.send("tail]]\r");
    REQUIRE(shows(first, "> "));
    first.send("u = 1\r");
    REQUIRE(shows(first, "> "));
    first.send("\x04");
    CHECK(first.wait() == 0);
  }
  Pty second({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(second, "> "));
  second.send("\x1b[A\x1b[A\r");  // Up twice: past "u = 1" to the whole long string
  REQUIRE(shows(second, "> "));
  second.send("s == '#1700000000\\n\\\\#1700000001\\ntail', u\r");
  REQUIRE(shows(second, "true\tnil\r\n"));
  REQUIRE(shows(second, "> "));
  second.send("\x04");
  CHECK(second.wait() == 0);
  // The file stays readline's format: a "#<time>" line before each entry.
  std::ifstream history(dir + "/.scalelab_history");
  std::string first_line;
  std::getline(history, first_line);
  CHECK(first_line.rfind("#1", 0) == 0);
}

TEST_CASE("statements then an expression on one line: the statements run and the expression's values print") {
  // "x = 20; x + 1" waited on a ">>" prompt for more (a statement cannot end in an expression), as in lua.c.
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("x = 20; x + 1\r");
  REQUIRE(shows(repl, "21\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("local t = {1, 2, 3}; #t, t[3]\r");
  REQUIRE(shows(repl, "3\t3\r\n"));
  REQUIRE(shows(repl, "> "));
  // A trailing ';' still silences; a ';' in a string or a loop's body is no split.
  repl.send("y = 5; y * 1000;\r");
  repl.send("s = 'a;' .. 'b'; s\r");
  REQUIRE(shows(repl, "a;b\r\n"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("5000") == std::string::npos);
  repl.send("i = 0; while i < 3 do i = i + 1; print('tick ' .. i) end; 'i=' .. i\r");
  REQUIRE(shows(repl, "tick 3\r\ni=3\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("z = 1; -- sets z\r");
  repl.send("z + 99\r");
  REQUIRE(shows(repl, "100\r\n"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find(">> ") == std::string::npos);
  CHECK(repl.output().find("syntax error") == std::string::npos);
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("a semicolon silences a line's values where it ends the code\, with a comment after it\, and not inside a comment") {
  // The last character of the line decided: "2; -- note" showed 2, and "1 -- a note;" showed nothing.
  Pty repl({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  for (const char* line : {"1001 -- shown;", "1002; -- silenced", "1003 --[[ shown; ]]", "x = 1004; x -- shown;",
                           "1005 --[==[ a ]] ; ]==] ;", "'1006;--' -- shown", "[[1007;]] ; -- silenced",
                           "1008 --[[ silenced ]];"}) {
    repl.send(std::string(line) + "\r");
    REQUIRE(shows(repl, "> "));
  }
  repl.send("'end'\r");
  REQUIRE(shows(repl, "end\r\n> "));
  const std::string out = repl.output();
  for (const char* shown : {"\n1001\r\n", "\n1003\r\n", "\n1004\r\n", "\n1006;--\r\n"}) CHECK(out.find(shown) != std::string::npos);
  for (const char* silenced : {"\n1002\r\n", "\n1005\r\n", "\n1007;\r\n", "\n1008\r\n"}) CHECK(out.find(silenced) == std::string::npos);
  CHECK(out.find("stdin:") == std::string::npos);
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("an error in a print of the user's that shows a value ends its traceback at the user's frame") {
  // The REPL shows a line's values through the global print: a print that raised showed the REPL's own
  // frames below the user's ("stdlib/scalelab/repl.lua:26: in function 'repl.show'", "[C]: in ?"),
  // which no other error at the prompt shows.
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("print = function() error('x') end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("1\r");
  REQUIRE(shows(repl, "stdin:1: x"));
  REQUIRE(shows(repl, "> "));
  const std::string out = repl.output();
  const size_t at = out.find("stdin:1: x");
  const std::string shown = out.substr(at, out.rfind("> ") - at);
  CHECK(shown.find("stack traceback:\r\n\t[C]: in function 'error'\r\n\tstdin:1: in function 'print'\r\n") !=
        std::string::npos);
  CHECK(shown.find("repl.lua") == std::string::npos);
  CHECK(shown.find("repl.show") == std::string::npos);
  CHECK(shown.find("[C]: in ?") == std::string::npos);
  // The REPL goes on, and an error at the prompt keeps its traceback as before.
  repl.send("print = nil; error('y')\r");
  REQUIRE(shows(repl, "stdin:1: y\r\nstack traceback:\r\n\t[C]: in function 'error'\r\n\tstdin:1: in main chunk"));
  REQUIRE(shows(repl, "> "));
  repl.send("2\r");
  REQUIRE(shows(repl, "2\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("an error that a print of the user's raises is said as print's\, with no position of the REPL's") {
  // The REPL called print from its own Lua (repl.show): Lua's error() names its caller's caller, so
  // print = error, then 1, said "stdlib/scalelab/repl.lua:26: 1", a line the user never wrote, and so
  // did error("boom", 2) in a print of the user's.
  Pty repl({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  repl.send("print = error\r");
  REQUIRE(shows(repl, "> "));
  repl.send("1\r");
  // One frame: error, which Lua names 'error' or 'print', as its search of the globals meets either first.
  REQUIRE(shows(repl, "error calling 'print' to show the values: 1 (print = nil shows them without it)\r\n"
                      "stack traceback:\r\n\t[C]: in function '"));
  REQUIRE(shows(repl, "'\r\n> "));
  const std::string shown = repl.output().substr(repl.output().rfind("stack traceback:"));
  CHECK((shown == "stack traceback:\r\n\t[C]: in function 'error'\r\n> " ||
         shown == "stack traceback:\r\n\t[C]: in function 'print'\r\n> "));
  repl.send("print = function(...) error('boom', 2) end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("2\r");
  REQUIRE(shows(repl, "error calling 'print' to show the values: boom (print = nil shows them without it)\r\n"
                      "stack traceback:\r\n\t[C]: in function 'error'\r\n\tstdin:1: in function 'print'"));
  REQUIRE(shows(repl, "> "));
  // A print that raises at its own line keeps that line; one that cannot be called is not called.
  repl.send("print = function() error('x') end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("3\r");
  REQUIRE(shows(repl, "error calling 'print' to show the values: stdin:1: x (print = nil shows them without it)"));
  REQUIRE(shows(repl, "> "));
  repl.send("print = 5\r");
  REQUIRE(shows(repl, "> "));
  repl.send("4\r");
  REQUIRE(shows(repl, "4\r\n> "));
  const std::string out = repl.output();
  CHECK(out.find("repl.lua") == std::string::npos);
  CHECK(out.find("repl.show") == std::string::npos);
  // An error of the line itself is not print's.
  repl.send("print = nil; error('y')\r");
  REQUIRE(shows(repl, "stdin:1: y\r\nstack traceback:"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("error calling 'print' to show the values: stdin:1: y") == std::string::npos);
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("a print of the user's from a file of a long path\, with the library read from a long path too\, ends its traceback at the user's frame") {
  // Lua writes a file name longer than 60 characters as "..." and its end. The REPL found the end of the
  // user's frames in the traceback's text by the files it names, and took every such name for not the
  // user's: a print defined in a script of a long path kept the REPL's frames below it (repl.lua's, then
  // "[C]: in ?"). Library frames elsewhere are told by their whole chunk name, whatever its length.
  const std::string dir = temp_dir() + "/a-folder-whose-name-is-long-enough-that-lua-cuts-the-chunk-names-under-it";
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  REQUIRE(::symlink(SCALELAB_SOURCE_DIR "/stdlib", (dir + "/stdlib").c_str()) == 0);
  const std::string script = dir + "/prints.lua";
  write_file(script, "print = function(...) error('mine') end\n"
                     "function each() return sweep.filter(sweep.grid{ N = { 1, 2 }, D = { 1 } }, function(p) error('in keep') end) end\n");
  Pty repl({SCALELAB_BINARY, "-i", script}, {"HOME=" + dir, "SCALELAB_STDLIB=" + dir + "/stdlib"});
  REQUIRE(shows(repl, "> "));
  repl.send("1\r");
  REQUIRE(shows(repl, "error calling 'print' to show the values: ..."));
  REQUIRE(shows(repl, "/prints.lua:1: mine (print = nil shows them without it)\r\nstack traceback:\r\n\t[C]: in function 'error'\r\n\t..."));
  REQUIRE(shows(repl, "/prints.lua:1: in function 'print'\r\n> "));
  CHECK(repl.output().find("repl.lua") == std::string::npos);
  CHECK(repl.output().find("[C]: in ?") == std::string::npos);
  // A library function called from that file, from the REPL: named as the user calls it.
  repl.send("print = nil; sweep.grid{ N = 'x' }\r");
  REQUIRE(shows(repl, "stdin:1: sweep.grid: N must be a number or a list of numbers (got a string)\r\n"
                      "stack traceback:\r\n\t[scalelab]: in function 'sweep.grid'\r\n\tstdin:1: in main chunk\r\n> "));
  repl.send("each()\r");
  REQUIRE(shows(repl, "/prints.lua:2: in keep\r\nstack traceback:"));
  REQUIRE(shows(repl, "in function 'sweep.filter'"));
  REQUIRE(shows(repl, "\tstdin:1: in main chunk\r\n> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("a bad key of a table typed over several lines is located at the key's line\, as in a script") {
  // The study checks read a script's file to find the key's line; an entry typed at the prompt has no
  // file, and its error said "stdin:1:", the call's first line, in a study of twenty lines as well.
  Pty repl(pasting_terminal(), {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  for (const char* line : {"st = study 'x' {", "  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },", "  backend = 'simulated',",
                           "  fitz = {},"}) {
    repl.send(std::string(line) + "\r");
    REQUIRE(shows(repl, ">> "));
  }
  repl.send("}\r");
  REQUIRE(shows(repl, "stdin:4: study: unknown key 'fitz'; did you mean 'fits'?"));
  REQUIRE(shows(repl, "> "));
  // The same in a paste, numbered by the paste's lines; and a sweep's argument.
  paste(repl, "x = 1\rs = sweep.grid{\r  N = { 1e5 },\r  D = 'x' }");
  REQUIRE(shows(repl, "stdin:4: sweep.grid: D must be a number or a list of numbers (got a string)"));
  REQUIRE(shows(repl, "> "));
  // A function an earlier entry defined keeps the lines of its own entry: this entry's text is not its.
  repl.send("function grid() return sweep.grid{ N = { 1e5 }, D = 'x' } end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("local a = {\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("  D = 1 } grid()\r");
  REQUIRE(shows(repl, "stdin:1: sweep.grid: D must be a number or a list of numbers (got a string)"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("Ctrl-D on a continuation prompt drops the unfinished entry and keeps the session") {
  // It ended the session, and every model, run and fit it held, as Ctrl-D on "> " does.
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("kept = 42\r");
  REQUIRE(shows(repl, "> "));
  repl.send("function f()\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("\x04");
  REQUIRE(shows(repl, "the unfinished entry was dropped"));
  REQUIRE(shows(repl, "> "));
  repl.send("kept + 1\r");
  REQUIRE(shows(repl, "43\r\n"));
  REQUIRE(shows(repl, "> "));
  // Up recalls it (past "kept + 1"), to be finished.
  repl.send("\x1b[A\x1b[A return 7 end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("f() * 6\r");
  REQUIRE(shows(repl, "42\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");  // on "> ": leaves
  CHECK(repl.wait() == 0);
}

// Ctrl-C on ">>" dropped the unfinished entry and everything typed in it, where Ctrl-D there keeps
// it in the history: both now keep it, the line Ctrl-C cleared too, for Up to bring back and finish.
TEST_CASE("Ctrl-C on a continuation prompt drops the unfinished entry\, which Up recalls whole") {
  Pty repl({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(shows(repl, "> "));
  repl.send("function kept()\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("local five = 5\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("return five");
  REQUIRE(shows(repl, "return five"));
  repl.interrupt();
  REQUIRE(shows(repl, "(Ctrl-C: the unfinished entry was dropped; Up recalls it)"));
  REQUIRE(shows(repl, "> "));
  repl.send("kept == nil\r");
  REQUIRE(shows(repl, "true\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x1b[A\x1b[A\r");  // Up twice: past "kept == nil" to the entry, its three lines
  REQUIRE(shows(repl, ">> "));
  repl.send("end\r");
  REQUIRE(shows(repl, "> "));
  repl.send("kept()\r");
  REQUIRE(shows(repl, "5\r\n"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

TEST_CASE("a syntax error at a character outside ASCII names the character and what Lua takes instead") {
  // Lua named the character's first byte: "unexpected symbol near '<\207>'" for "π = 3.14".
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("\xcf\x80 = 3.14\r");  // π
  REQUIRE(shows(repl, "stdin:1: unexpected symbol near '\xcf\x80' (Lua's names are ASCII letters, digits and _"));
  REQUIRE(shows(repl, "> "));
  repl.send("print(\xe2\x80\x9chi\xe2\x80\x9d)\r");  // “hi”, pasted from a page
  REQUIRE(shows(repl, "near '\xe2\x80\x9c' (a typographic quote: Lua's strings are in \" or ')"));
  REQUIRE(shows(repl, "> "));
  repl.send("if 1\r");
  REQUIRE(shows(repl, ">> "));
  repl.send("\xe2\x89\xa4 2 then print('small') end\r");  // ≤, on the chunk's second line
  REQUIRE(shows(repl, "near '\xe2\x89\xa4' (an operator Lua writes in ASCII: <=, >=, ~=, -, *, /)"));
  REQUIRE(shows(repl, "> "));
  // Text in a string is text.
  repl.send("'\xcf\x80 \xe2\x89\xa4 4'\r");
  REQUIRE(shows(repl, "\xcf\x80 \xe2\x89\xa4 4\r\n"));
  REQUIRE(shows(repl, "> "));
  CHECK(repl.output().find("<\\") == std::string::npos);
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

namespace {
// The widest line of `text` (line breaks "\r\n" or "\n"), each line checked against `columns`; a
// line starting with `skip` is left out. Counts the lines in `count`.
size_t widest_line(const std::string& text, size_t columns, const std::string& skip, int& count) {
  std::istringstream lines(text);
  size_t most = 0;
  count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(skip, 0) == 0) continue;
    INFO(line);
    CHECK(line.size() <= columns);
    most = std::max(most, line.size());
  }
  return most;
}
}  // namespace

TEST_CASE("tables\, help and text figures fit the terminal's width\, in the REPL and in a script") {
  // The REPL printed tables 100 wide whatever the terminal's width; help and f:show() followed
  // $COLUMNS, which readline sets in the REPL but a script does not see (bash does not export it):
  // there they were 100 wide, and on a narrower terminal each long line wrapped.
  const std::string dir = temp_dir();
  const std::string figure = "if plot.available() then f = plot.figure{ title = 'narrow' } f:line{ x = {1, 2, 3}, "
                             "y = {3, 1, 2} } f:show() else for i = 1, 5 do print('no gnuplot') end end";
  const std::string skip = "plot: no window";  // a sentence, which the terminal wraps at words
  int count = 0;
  {
    Pty repl({"/bin/sh", "-c", "stty cols 70 rows 30 && exec '" SCALELAB_BINARY "'"}, {"HOME=" + dir, "DISPLAY="});
    REQUIRE(shows(repl, "> "));
    // What the command prints, between the markers "<NAME" and "NAME>".
    auto printed = [&](const std::string& name, const std::string& command) {
      repl.send("print('<' .. '" + name + "')\r");
      repl.send(command + "\r");
      repl.send("print('" + name + "' .. '>')\r");
      REQUIRE(shows(repl, name + ">\r\n"));
      const std::string& out = repl.output();
      const size_t from = out.rfind("<" + name + "\r\n"), to = out.rfind(name + ">\r\n");
      REQUIRE(from != std::string::npos);
      return out.substr(from, to - from);
    };
    CHECK(widest_line(printed("table", "t = {} for i = 1, 40 do t[i] = 100000 + i end; t"), 70, skip, count) > 50);
    CHECK(count > 3);
    CHECK(widest_line(printed("help", "help(train.run)"), 70, skip, count) > 50);
    CHECK(widest_line(printed("figure", figure), 70, skip, count) > 0);
    CHECK(count > 3);
    // The terminal narrowed during a computation: the next table takes the new width (readline's
    // COLUMNS, exported at the start, kept the old one).
    repl.send("os.execute('stty cols 50')\r");
    REQUIRE(shows(repl, "> "));
    CHECK(widest_line(printed("narrower", "t"), 50, skip, count) > 35);
    CHECK(count > 3);
    // Ctrl-D once readline reads again: typed ahead while a line runs, the terminal's line
    // discipline takes it as an end of input that readline, switching to raw mode, never sees.
    REQUIRE(shows(repl, "> "));
    repl.send("\x04");
    CHECK(repl.wait() == 0);
  }
  write_file(dir + "/narrow.lua", "help(train.run)\n" + figure + "\n");
  Pty script({"/bin/sh", "-c", "stty cols 70 rows 30 && exec '" SCALELAB_BINARY "' '" + dir + "/narrow.lua'"},
             {"HOME=" + dir, "DISPLAY="});
  REQUIRE(script.wait(30) == 0);
  CHECK(widest_line(script.output(), 70, skip, count) > 50);
  CHECK(count > 20);
}

TEST_CASE("help(fit.chinchila) typed in the REPL names the name meant\, and a stale miss is not taken for it") {
  // help received only the nil and said "no value (nil) given"; help("fit.chinchila") said the name meant.
  const std::string dir = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + dir});
  REQUIRE(shows(repl, "> "));
  repl.send("help(fit.chinchila)\r");
  REQUIRE(shows(repl, "help: no value (nil) given: fit has no 'chinchila'; did you mean 'fit.chinchilla'?"));
  REQUIRE(shows(repl, "> "));
  repl.send("return help(train.rnu)\r");
  REQUIRE(shows(repl, "help: no value (nil) given: train has no 'rnu'; did you mean 'train.run'?"));
  REQUIRE(shows(repl, "> "));
  // Each entry is a chunk of its own, all of them line 1 of stdin: a miss of an earlier entry is not this one's.
  repl.send("x = fit.chinchila\r");
  REQUIRE(shows(repl, "> "));
  repl.send("help(x)\r");
  REQUIRE(shows(repl, "help: no value (nil) given: the name holds nothing"));
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

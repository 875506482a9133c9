// The REPL, driven through a pseudo-terminal as a person would use it.
#include <catch2/catch.hpp>

#include <fstream>
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

  // Ctrl-C interrupts an endless loop and returns to the prompt, with state intact.
  repl.send("print('loop' .. 'ing') while true do end\r");
  REQUIRE(shows(repl, "looping"));
  repl.interrupt();
  REQUIRE(shows(repl, "interrupted!"));
  repl.send("twice(50)\r");
  REQUIRE(shows(repl, "100"));

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

  // Ctrl-C at the prompt clears the line; twice on an empty prompt leaves.
  repl.send("half-typed");
  REQUIRE(shows(repl, "half-typed"));  // read by readline (ISIG flushes unread input)
  repl.interrupt();
  REQUIRE(shows(repl, "> "));
  repl.interrupt();
  REQUIRE(shows(repl, "Ctrl-C again"));
  repl.interrupt();
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
  REQUIRE(shows(repl, "> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

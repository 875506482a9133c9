// The REPL, driven through a pseudo-terminal as a person would use it.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "process.h"

using namespace scalelab::testing;

TEST_CASE("the REPL evaluates, continues, completes, survives Ctrl-C and keeps history") {
  std::string home = temp_dir();
  Pty repl({SCALELAB_BINARY}, {"HOME=" + home});
  REQUIRE(repl.expect("> "));

  // An expression prints its value.
  repl.send("1 + 2\r");
  REQUIRE(repl.expect("3\r\n"));

  // A trailing semicolon silences it.
  repl.send("40 + 2;\r");
  repl.send("'after'\r");
  REQUIRE(repl.expect("after"));
  CHECK(repl.output().find("42") == std::string::npos);

  // A statement that ends early continues on a second prompt.
  repl.send("function twice(x)\r");
  REQUIRE(repl.expect(">> "));
  repl.send("return 2 * x end\r");
  repl.send("twice(21)\r");
  REQUIRE(repl.expect("42"));

  // Tables pretty-print; bound objects print their summary.
  repl.send("{a = 1, b = {2, 3}}\r");
  REQUIRE(repl.expect("{a = 1, b = {2, 3}}"));
  repl.send("model.gpt{vocab=256, ctx=64, d_model=64, n_layer=2, n_head=2}\r");
  REQUIRE(repl.expect("GPT(L=2, d=64"));

  // Tab completes table fields and bound objects' properties.
  repl.send("string.for\t(\"%d\", 7)\r");
  REQUIRE(repl.expect("7\r\n"));
  repl.send("cfg = model.gpt{vocab=256, ctx=64, d_model=64, n_layer=2, n_head=2}\r");
  repl.send("cfg.non_emb\t\r");
  REQUIRE(repl.expect("100096"));  // 2·(12·64² + 13·64) + 2·64

  // Ctrl-C interrupts an endless loop and returns to the prompt, with state intact.
  repl.send("print('loop' .. 'ing') while true do end\r");
  REQUIRE(repl.expect("looping"));
  repl.interrupt();
  REQUIRE(repl.expect("interrupted!"));
  repl.send("twice(50)\r");
  REQUIRE(repl.expect("100"));

  // An error shows a message and the session goes on.
  repl.send("error('oops')\r");
  REQUIRE(repl.expect("oops"));
  repl.send("help(model)\r");
  REQUIRE(repl.expect("model.shape_for{ params = N"));

  // Wait for the prompt before typing: keys typed while a computation runs are echoed by the
  // terminal, and a Ctrl-C then flushes them before readline reads them.
  repl.send("'ready'\r");
  REQUIRE(repl.expect("ready\r\n"));
  REQUIRE(repl.expect("> "));

  // Ctrl-C at the prompt clears the line; twice on an empty prompt leaves.
  repl.send("half-typed");
  REQUIRE(repl.expect("half-typed"));  // read by readline (ISIG flushes unread input)
  repl.interrupt();
  REQUIRE(repl.expect("> "));
  repl.interrupt();
  REQUIRE(repl.expect("Ctrl-C again"));
  repl.interrupt();
  CHECK(repl.wait() == 0);

  std::ifstream history(home + "/.scalelab_history");
  std::stringstream text;
  text << history.rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("1 + 2"));
  CHECK_THAT(text.str(), Catch::Contains("function twice(x)\nreturn 2 * x end"));
}

TEST_CASE("Ctrl-D leaves the REPL") {
  Pty repl({SCALELAB_BINARY}, {"HOME=" + temp_dir()});
  REQUIRE(repl.expect("> "));
  repl.send("\x04");
  CHECK(repl.wait() == 0);
}

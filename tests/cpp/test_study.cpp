// A study on a terminal: the sweep bar over the bars of the runs in flight, redrawn in place; and
// Ctrl-C stops the sweep, recording the run in flight as interrupted, and a rerun finishes it.
#include <catch2/catch.hpp>

#include <string>

#include "process.h"
#include "store/store.h"

using namespace scalelab::testing;

TEST_CASE("on a terminal a study shows a sweep bar over its run bars, Ctrl-C stops it and a rerun finishes") {
  const std::string dir = temp_dir();
  write_file(dir + "/bars.lua", R"(
study "bars" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5 }, D = { 1e7 } },
  backend = { kind = "law", points = 20, seconds_per_point = 0.05 },
  store = ")" + dir + R"(/bars.db",
  fits = {},
}
print("finished")
)");
  {
    Pty study({SCALELAB_BINARY, dir + "/bars.lua"}, {"SCALELAB_PROGRESS=bars"});
    const bool bar = study.expect("sweep [");
    INFO(study.output());
    REQUIRE(bar);
    REQUIRE(study.expect("0/4 runs"));
    REQUIRE(study.expect("  run 1"));      // the run bar under the sweep bar
    REQUIRE(study.expect("\x1b["));        // redrawn in place
    REQUIRE(study.expect("1/4 runs", 20));
    REQUIRE(study.expect("  run 2   [########", 20));  // the second run in flight, half of it drawn
    study.interrupt();
    CHECK(study.wait(20) == 130);
    CHECK(study.output().find("\nfinished") == std::string::npos);  // the script's last line did not run
    // Said in the study's words at the user's line, not as the library's "executor.lua:...: interrupted!".
    CHECK(study.output().find("bars.lua:2: study bars: interrupted with ") != std::string::npos);
    CHECK(study.output().find("run the study again to resume") != std::string::npos);
    CHECK(study.output().find("executor.lua") == std::string::npos);
  }
  std::string interrupted_hash;
  {
    auto store = scalelab::store::Store::Open(dir + "/bars.db");
    int done = 0, interrupted = 0, running = 0;
    for (const auto& run : store.Runs()) {
      done += run.status == scalelab::store::RunStatus::Done;
      interrupted += run.status == scalelab::store::RunStatus::Interrupted;
      running += run.status == scalelab::store::RunStatus::Running;
      if (run.status == scalelab::store::RunStatus::Interrupted) interrupted_hash = run.hash;
    }
    CHECK(done >= 1);
    CHECK(done < 4);
    CHECK(interrupted == 1);
    CHECK(running == 0);  // nothing left as if still training
  }
  ProcessResult rerun = run_process({SCALELAB_BINARY, dir + "/bars.lua"});
  INFO(rerun.out << rerun.err);
  CHECK(rerun.status == 0);
  CHECK(rerun.out.find("finished") != std::string::npos);
  // Not a terminal: plain lines, no escape sequences.
  CHECK(rerun.out.find("\x1b[") == std::string::npos);
  CHECK(rerun.out.find("study bars: 4 runs") != std::string::npos);
  // The resumed run's time is both attempts': 20 points of 0.05 s each, however they were split.
  auto store = scalelab::store::Store::Open(dir + "/bars.db");
  for (const auto& run : store.Runs())
    if (run.hash == interrupted_hash) {
      CHECK(run.status == scalelab::store::RunStatus::Done);
      CHECK(run.wall_seconds >= 0.95);
    }
}

// The results store: round trips, run lifecycle, exports, and refusing foreign or damaged files
// without touching them.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/interrupt.h"
#include "process.h"
#include "store/sha256.h"
#include "store/store.h"

using namespace scalelab::store;
using scalelab::testing::temp_dir;
using scalelab::testing::write_file;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The names of the files in a folder.
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

RunPlan plan(const std::string& study, int i) {
  RunPlan p;
  p.study = study;
  p.config_json = "{\"N\":" + std::to_string(1000 * (i + 1)) + "}";
  p.hash = sha256_hex(p.config_json);
  p.ordinal = i;
  p.label = "run " + std::to_string(i);
  p.config = {Value::Number("N", 1000.0 * (i + 1)), Value::Text("backend", "simulated"),
              Value::Number("lr", 1e-3)};
  p.params = 1000.0 * (i + 1);
  p.tokens = 20000.0 * (i + 1);
  p.flops = 6 * p.params * p.tokens;
  return p;
}

// A store with one study and three runs, the first done with a curve.
std::string make_store(const std::string& dir) {
  const std::string path = dir + "/results.db";
  Store store = Store::Open(path);
  store.RecordStudy({"demo", "demo.lua", "study 'demo' {}", "0.1.0", "{}"});
  for (int i = 0; i < 3; ++i) store.PlanRun(plan("demo", i));
  const std::string hash = plan("demo", 0).hash;
  REQUIRE(store.StartRun("demo", hash, "test", dir + "/ckpt", "abc"));
  RunOutcome outcome;
  outcome.loss = 3.25;
  outcome.wall_seconds = 1.5;
  outcome.metrics = {Value::Number("tokens_per_second", 12345.5), Value::Number("lr", 7)};
  for (int s = 1; s <= 5; ++s) {
    CurvePoint p;
    p.step = s;
    p.tokens = 100.0 * s;
    p.train_loss = 5.0 - 0.3 * s;
    if (s % 2 == 1) p.eval_loss = 5.1 - 0.3 * s;
    outcome.curve.push_back(p);
  }
  store.FinishRun("demo", hash, outcome);
  return path;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("a store round-trips studies, runs, values and curves across reopening") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  Store store = Store::Open(path);
  CHECK(store.schema_version() == kSchemaVersion);
  auto studies = store.Studies();
  REQUIRE(studies.size() == 1);
  CHECK(studies[0].name == "demo");
  CHECK(studies[0].script_hash == sha256_hex("study 'demo' {}"));
  CHECK(studies[0].scalelab_version == "0.1.0");

  auto runs = store.Runs({"demo", ""});
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].status == RunStatus::Done);
  CHECK(runs[0].attempts == 1);
  CHECK(runs[0].loss == 3.25);
  CHECK(runs[0].script_hash == "abc");
  CHECK(runs[0].config.size() == 3);
  CHECK(runs[0].metrics.size() == 2);
  CHECK(runs[1].status == RunStatus::Planned);
  CHECK(std::isnan(runs[1].loss));
  CHECK(runs[2].flops == 6 * 3000.0 * 60000.0);
  CHECK(store.Runs({"", "done"}).size() == 1);
  CHECK_THROWS_WITH(store.Runs({"", "finished"}), Catch::Contains("unknown run status 'finished'"));

  auto curve = store.Curve("demo", runs[0].hash);
  REQUIRE(curve.size() == 5);
  CHECK(curve[2].tokens == 300);
  CHECK(std::isnan(curve[1].eval_loss));
  CHECK(curve[2].eval_loss == Approx(5.1 - 0.9));

  // A finished run is final: starting it again is refused, and replanning keeps its results.
  CHECK_FALSE(store.StartRun("demo", runs[0].hash, "test", "", ""));
  store.PlanRun(plan("demo", 0));
  CHECK(store.Run("demo", runs[0].hash)->status == RunStatus::Done);
  // Starting an unfinished run counts the attempt.
  CHECK(store.StartRun("demo", runs[1].hash, "w", "", ""));
  CHECK(store.StartRun("demo", runs[1].hash, "w", "", ""));
  CHECK(store.Run("demo", runs[1].hash)->attempts == 2);
  CHECK(store.Run("demo", runs[1].hash)->status == RunStatus::Running);
  // A diverged run is final too; a failed or interrupted one is started again.
  RunOutcome diverged;
  diverged.status = RunStatus::Diverged;
  store.FinishRun("demo", runs[1].hash, diverged);
  CHECK_FALSE(store.StartRun("demo", runs[1].hash, "w", "", ""));
  for (RunStatus status : {RunStatus::Failed, RunStatus::Interrupted}) {
    RunOutcome outcome;
    outcome.status = status;
    store.FinishRun("demo", runs[2].hash, outcome);
    CHECK(store.StartRun("demo", runs[2].hash, "w", "", ""));
  }
  store.ResetRun("demo", runs[1].hash);
  store.ResetRun("demo", runs[0].hash);
  CHECK(store.Run("demo", runs[0].hash)->status == RunStatus::Planned);
  CHECK(store.Curve("demo", runs[0].hash).empty());
  CHECK_THAT(store.Summary(), Catch::Contains("1 study, 3 runs: 1 running, 2 planned"));
  CHECK_THROWS_WITH(store.PlanRun(plan("nope", 0)), Catch::Contains("study 'nope' is not recorded"));
}

TEST_CASE("exports are flat tables with one column per configuration key and metric") {
  const std::string dir = temp_dir();
  Store store = Store::Open(make_store(dir));
  const std::string csv = store.RunsCsv();
  std::istringstream lines(csv);
  std::string header, first;
  std::getline(lines, header);
  std::getline(lines, first);
  CHECK_THAT(header, Catch::StartsWith("study,hash,ordinal,label,status,attempts,params,"));
  CHECK_THAT(header, Catch::Contains(",N,backend,"));            // configuration keys
  CHECK_THAT(header, Catch::Contains(",result_lr,tokens_per_second"));  // a metric named like a config key
  CHECK_THAT(first, Catch::Contains("demo,"));
  CHECK_THAT(first, Catch::Contains(",done,1,1000,"));
  CHECK_THAT(first, Catch::Contains(",simulated,"));
  CHECK_THAT(first, Catch::Contains(",12345.5"));
  size_t rows = 0;
  for (char c : csv) rows += c == '\n';
  CHECK(rows == 4);

  const std::string json = store.RunsJson();
  CHECK(json.front() == '[');
  CHECK_THAT(json, Catch::Contains("\"status\": \"planned\""));
  CHECK_THAT(json, Catch::Contains("\"loss\": null"));
  CHECK_THAT(json, Catch::Contains("\"tokens_per_second\": 12345.5"));
  // A text the run lacks (no worker nor error for a planned run) is null, as a number it lacks is:
  // "" would read as a value (pandas: notna).
  CHECK_THAT(json, Catch::Contains("\"worker\": \"test\""));
  CHECK_THAT(json, Catch::Contains("\"worker\": null") && Catch::Contains("\"error\": null"));
  CHECK_THAT(json, !Catch::Contains(": \"\""));
  // No point has seconds or a learning rate: no always-empty columns.
  CHECK_THAT(store.CurvesCsv(), Catch::StartsWith("study,hash,step,tokens,train_loss,eval_loss\n"));
  CHECK_THAT(store.CurvesJson(), !Catch::Contains("\"seconds\"") && !Catch::Contains("\"lr\""));
  CHECK_THAT(store.CurvesJson(), Catch::Contains("\"eval_loss\": null"));
  write_file_atomically(dir + "/runs.csv", csv);
  CHECK(read_file(dir + "/runs.csv") == csv);
}

TEST_CASE("an export that cannot be written says why and the fix: a missing folder\, a folder in its place") {
  const std::string dir = temp_dir();
  CHECK_THROWS_WITH(write_file_atomically(dir + "/no/such/runs.csv", "x"),
                    Catch::Contains("cannot write '" + dir + "/no/such/runs.csv': its folder '" + dir +
                                    "/no/such' does not exist; create it (mkdir -p '" + dir + "/no/such')"));
  std::filesystem::create_directory(dir + "/runs.csv");
  CHECK_THROWS_WITH(write_file_atomically(dir + "/runs.csv", "x"),
                    Catch::Contains("cannot write '" + dir + "/runs.csv': it is a folder; give the path of a file"));
  write_file(dir + "/plain", "x");
  CHECK_THROWS_WITH(write_file_atomically(dir + "/plain/runs.csv", "x"),
                    Catch::Contains("'" + dir + "/plain' is not a folder"));
  CHECK(listing(dir) == std::set<std::string>{"plain", "runs.csv"});  // no temporary file left
}

TEST_CASE("a store path with the URI characters ?, # or % in it names that file") {
  const std::string dir = temp_dir();
  for (const std::string name : {"a#b.db", "a?b.db", "a%23b.db"}) {
    INFO(name);
    const std::string path = dir + "/" + name;
    {
      Store store = Store::Open(path);
      store.RecordStudy({"demo", "demo.lua", "", "0.1.0", "{}"});
    }
    CHECK(exists(path));
    StoreOptions read;
    read.read_only = true;
    read.create = false;
    CHECK(Store::Open(path, read).Studies().size() == 1);
  }
  CHECK(listing(dir) == std::set<std::string>{"a#b.db", "a?b.db", "a%23b.db"});
}

TEST_CASE("runs are listed by study, then by their ordinal in the study, which replanning sets") {
  const std::string dir = temp_dir();
  Store store = Store::Open(dir + "/results.db");
  store.RecordStudy({"b", "b.lua", "", "0.1.0", "{}"});
  store.RecordStudy({"a", "a.lua", "", "0.1.0", "{}"});
  std::vector<RunPlan> plans = {plan("b", 2), plan("b", 0), plan("a", 1), plan("b", 1)};
  store.PlanRuns(plans);  // ids in this order
  auto order = [&] {
    std::vector<std::string> out;
    for (const RunRecord& r : store.Runs()) out.push_back(r.study + " " + std::to_string(r.ordinal) + " " + r.label);
    return out;
  };
  CHECK(order() == std::vector<std::string>{"a 1 run 1", "b 0 run 0", "b 1 run 1", "b 2 run 2"});
  // The study planned again in another order: the same runs, in the new one.
  plans[0].ordinal = 0;
  plans[1].ordinal = 2;
  store.PlanRuns(plans);
  CHECK(order() == std::vector<std::string>{"a 1 run 1", "b 0 run 2", "b 1 run 1", "b 2 run 0"});
}

TEST_CASE("exports quote CSV fields as RFC 4180 does and escape JSON strings as RFC 8259 does") {
  const std::string dir = temp_dir();
  Store store = Store::Open(dir + "/results.db");
  store.RecordStudy({"demo", "demo.lua", "", "0.1.0", "{}"});
  RunPlan p = plan("demo", 0);
  p.label = "say \"hi\", then";
  p.config = {Value::Text("note", std::string("a\x01" "b\x1f\x7f\tc\\d\ne"))};
  store.PlanRun(p);
  // CSV: a field with a comma, quote or line break is quoted, its quotes doubled.
  const std::string csv = store.RunsCsv();
  CHECK_THAT(csv, Catch::Contains(",\"say \"\"hi\"\", then\",planned,"));
  CHECK_THAT(csv, Catch::Contains(",\"a\x01" "b\x1f\x7f\tc\\d\ne\"\n"));
  // JSON: quote, backslash and every control character below U+0020 escaped; DEL is not one.
  const std::string json = store.RunsJson();
  CHECK_THAT(json, Catch::Contains("\"label\": \"say \\\"hi\\\", then\""));
  CHECK_THAT(json, Catch::Contains("\"note\": \"a\\u0001b\\u001f\x7f\\tc\\\\d\\ne\""));
}

TEST_CASE("a missing number (NaN, stored as NULL) reads back as a missing number, an empty text as a text") {
  const std::string dir = temp_dir();
  Store store = Store::Open(dir + "/results.db");
  store.RecordStudy({"demo", "demo.lua", "", "0.1.0", "{}"});
  RunPlan q = plan("demo", 1);
  q.config = {Value::Number("missing", kMissing), Value::Text("empty", "")};
  store.PlanRun(q);
  const RunRecord r = *store.Run("demo", q.hash);
  REQUIRE(r.config.size() == 2);
  CHECK(r.config[0].key == "empty");
  CHECK_FALSE(r.config[0].is_number);
  CHECK(r.config[0].text.empty());
  CHECK(r.config[1].key == "missing");
  CHECK(r.config[1].is_number);
  CHECK(std::isnan(r.config[1].number));
}

TEST_CASE("a file that is not SQLite is refused and left untouched") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/notes.db";
  write_file(path, "these are my notes, not a database\n");
  const std::string before = read_file(path);
  CHECK_THROWS_WITH(Store::Open(path), Catch::Contains("is not a scalelab results store: it is not an SQLite database") &&
                                           Catch::Contains("left it untouched; move it aside (mv '" + path + "' '" +
                                                           path + ".moved') or give the study another store path"));
  // Read-only (scalelab results) there is no study to give another path to.
  StoreOptions reading;
  reading.read_only = true;
  reading.create = false;
  CHECK_THROWS_WITH(Store::Open(path, reading), Catch::Contains("it is not an SQLite database") &&
                                                    Catch::Contains("left it untouched; check the path") &&
                                                    !Catch::Contains("study"));
  CHECK(read_file(path) == before);
  CHECK_FALSE(exists(path + "-wal"));
}

TEST_CASE("a store cut short inside SQLite's header is called truncated\, not 'not an SQLite database'") {
  const std::string dir = temp_dir();
  const std::string whole = dir + "/whole.db";
  { Store store = Store::Open(whole); }
  const std::string bytes = read_file(whole);
  REQUIRE(bytes.size() > 100);
  for (size_t size : {size_t{16}, size_t{50}, size_t{99}}) {
    const std::string path = dir + "/cut" + std::to_string(size) + ".db";
    write_file(path, bytes.substr(0, size));
    CHECK_THROWS_WITH(Store::Open(path),
                      Catch::Contains("'" + path + "' is truncated: it holds " + std::to_string(size) + " bytes") &&
                          Catch::Contains("restore it from a copy, or give the study another store path") &&
                          !Catch::Contains("not an SQLite database"));
    StoreOptions reading;
    reading.read_only = true;
    reading.create = false;
    CHECK_THROWS_WITH(Store::Open(path, reading), Catch::Contains("is truncated") && !Catch::Contains("study"));
    CHECK(read_file(path) == bytes.substr(0, size));
  }
  // A short file that does not begin as SQLite is still no SQLite database.
  const std::string other = dir + "/short.db";
  write_file(other, "notes");
  CHECK_THROWS_WITH(Store::Open(other), Catch::Contains("it is not an SQLite database"));
}

TEST_CASE("a store deleted or replaced while open is saved and the write that finds it fails\, losing nothing") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/gone.db";
  auto started = [&](Store& store) {
    store.RecordStudy({"demo", "demo.lua", "", "0.1.0", "{}"});
    for (int i = 0; i < 2; ++i) store.PlanRun(plan("demo", i));
    REQUIRE(store.StartRun("demo", plan("demo", 0).hash, "w", "", ""));
  };
  RunOutcome outcome;
  outcome.loss = 3.25;
  {
    // Deleted (rm of the store and its log): the run that finishes then is written back with the rest.
    Store store = Store::Open(path);
    started(store);
    REQUIRE(::unlink(path.c_str()) == 0);
    ::unlink((path + "-wal").c_str());
    ::unlink((path + "-shm").c_str());
    CHECK_THROWS_WITH(store.FinishRun("demo", plan("demo", 0).hash, outcome),
                      Catch::Contains("results store '" + path + "' was deleted while scalelab had it open") &&
                          Catch::Contains("wrote it back there") && Catch::Contains("Run the study again"));
  }
  {
    StoreOptions reading;
    reading.read_only = true;
    reading.create = false;
    Store back = Store::Open(path, reading);
    const auto run = back.Run("demo", plan("demo", 0).hash);
    REQUIRE(run);
    CHECK(run->status == RunStatus::Done);
    CHECK(run->loss == 3.25);
    CHECK(back.Runs().size() == 2);
  }
  {
    // Replaced by another file (mv over it): that file is left alone, the open one saved beside it.
    const std::string other = dir + "/other.db";
    { Store fresh = Store::Open(other); }
    Store store = Store::Open(path);
    store.StartRun("demo", plan("demo", 1).hash, "w", "", "");
    const std::string other_bytes = read_file(other);
    REQUIRE(::rename(other.c_str(), path.c_str()) == 0);
    const std::string saved = path + ".saved-" + std::to_string(::getpid()) + ".db";
    CHECK_THROWS_WITH(store.FinishRun("demo", plan("demo", 1).hash, outcome),
                      Catch::Contains("was replaced by another file while scalelab had it open") &&
                          Catch::Contains("saved as '" + saved + "'") && Catch::Contains("mv '" + saved + "'"));
    CHECK(read_file(path) == other_bytes);
    StoreOptions reading;
    reading.read_only = true;
    reading.create = false;
    Store kept = Store::Open(saved, reading);
    REQUIRE(kept.Run("demo", plan("demo", 1).hash));
    CHECK(kept.Run("demo", plan("demo", 1).hash)->status == RunStatus::Done);
    CHECK(kept.Run("demo", plan("demo", 0).hash)->status == RunStatus::Done);
  }
}

TEST_CASE("a curve with two points at one optimizer step is refused\, naming both\, and nothing is written") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  Store store = Store::Open(path);
  const std::string hash = plan("demo", 1).hash;
  REQUIRE(store.StartRun("demo", hash, "test", "", ""));
  RunOutcome outcome;
  outcome.loss = 3.5;
  for (int k = 0; k < 4; ++k) {
    CurvePoint p;
    p.step = (k + 1) / 2;  // 0, 1, 1, 2: points 2 and 3 share step 1
    p.tokens = 2048.0 * k;
    p.train_loss = 5.0 - 0.1 * k;
    outcome.curve.push_back(p);
  }
  CHECK_THROWS_WITH(store.FinishRun("demo", hash, outcome),
                    Catch::Contains("curve points 2 and 3 (at 2048 and 4096 tokens) both have optimizer step 1") &&
                        Catch::Contains("nothing of the run was written"));
  CHECK(store.Run("demo", hash)->status == RunStatus::Running);
  CHECK(store.Curve("demo", hash).empty());
  // Each point at its own step: all four kept.
  for (int k = 0; k < 4; ++k) outcome.curve[k].step = k;
  store.FinishRun("demo", hash, outcome);
  CHECK(store.Curve("demo", hash).size() == 4);
}

TEST_CASE("another application's SQLite database is refused and left untouched") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/other.db";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE customers(id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'x');",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  const std::string before = read_file(path);
  CHECK_THROWS_WITH(Store::Open(path), Catch::Contains("is an SQLite database but not a scalelab results store") &&
                                           Catch::Contains("tables: customers") &&
                                           Catch::Contains("Give the study another store path"));
  StoreOptions reading;
  reading.read_only = true;
  reading.create = false;
  CHECK_THROWS_WITH(Store::Open(path, reading), Catch::Contains("tables: customers") && !Catch::Contains("study"));
  CHECK(read_file(path) == before);
}

TEST_CASE("an empty SQLite file or an empty file becomes a new store") {
  const std::string dir = temp_dir();
  write_file(dir + "/empty.db", "");
  // Read-only, it is refused saying what it is and what to do, not only that it is empty.
  CHECK_THROWS_WITH(Store::Open(dir + "/empty.db", StoreOptions{false, true, 1}),
                    Catch::Contains("results store '" + dir + "/empty.db' is empty (0 bytes): nothing to read, as no "
                                    "study has written to it") && Catch::Contains("Check the path, or run the study"));
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir + "/tables.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "VACUUM", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  CHECK_THROWS_WITH(Store::Open(dir + "/tables.db", StoreOptions{false, true, 1}),
                    Catch::Contains("is empty (an SQLite database with no tables): nothing to read"));
  CHECK(Store::Open(dir + "/empty.db").schema_version() == kSchemaVersion);
  CHECK_THROWS_WITH(Store::Open(dir + "/missing.db", StoreOptions{false, true, 1}),
                    Catch::Contains("no results store at"));
}

TEST_CASE("a corrupted store is refused with a clear message and left untouched") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  {
    // Fold the WAL into the main file, so the damage below hits committed pages.
    Store store = Store::Open(path);
  }
  std::string bytes = read_file(path);
  REQUIRE(bytes.size() >= 4 * 4096);

  SECTION("garbage over the pages after the header") {
    for (size_t i = 4096; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(0xA5 ^ i);
  }
  SECTION("truncated") { bytes.resize(bytes.size() / 2 + 100); }
  SECTION("one page overwritten (SQLite's integrity check reports it over several lines)") {
    for (size_t i = 2 * 4096; i < 3 * 4096; ++i) bytes[i] = 'A';
  }
  SECTION("a newer schema version") {
    // user_version is the big-endian 32-bit integer at offset 60 of the header.
    bytes[60] = 0, bytes[61] = 0, bytes[62] = 0, bytes[63] = 99;
  }
  write_file(path, bytes);
  const std::string before = read_file(path);
  try {
    Store::Open(path);
    FAIL("the damaged store was opened");
  } catch (const scalelab::Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK((message.find("is corrupted") != std::string::npos ||
           message.find("written by a newer scalelab") != std::string::npos ||
           message.find("is damaged") != std::string::npos));
    CHECK(message.find(path) != std::string::npos);
    // One line: scalelab results and the study print an error's first line alone, and the way out
    // must be on it.
    CHECK(message.find('\n') == std::string::npos);
    CHECK((message.find("Restore it from a copy") != std::string::npos ||
           message.find("Upgrade scalelab") != std::string::npos || message.find("untouched") != std::string::npos));
  }
  CHECK(read_file(path) == before);
}

TEST_CASE("two connections write to one store in turn") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  Store a = Store::Open(path);
  Store b = Store::Open(path);
  const std::string hash = plan("demo", 2).hash;
  CHECK(a.StartRun("demo", hash, "a", "", ""));
  RunOutcome outcome;
  outcome.loss = 2.5;
  b.FinishRun("demo", hash, outcome);
  CHECK(a.Run("demo", hash)->loss == 2.5);
  CHECK_THAT(a.Summary(), Catch::Contains("2 done, 1 planned"));
}

TEST_CASE("a write with no room (a full disk\, a file size limit) says so and how to go on\, and keeps what was stored") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  Store::Open(path).Close();  // the log folded into the file
  // In a child whose files may not grow past 128 KiB (as a full disk stops them): plans runs with
  // long configurations until a write has no room.
  const std::string message = scalelab::testing::in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit {};
    limit.rlim_cur = limit.rlim_max = 128 * 1024;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    Store store = Store::Open(path);
    for (int batch = 0; batch < 100; ++batch) {
      std::vector<RunPlan> plans;
      for (int i = 0; i < 10; ++i) {
        RunPlan p = plan("demo", 10 + 10 * batch + i);
        p.config.push_back(Value::Text("notes", std::string(4000, 'x')));
        plans.push_back(p);
      }
      store.PlanRuns(plans);
    }
    return std::string("every write went through");
  });
  INFO(message);
  CHECK(message.find("results store '" + path + "' could not be written") != std::string::npos);
  CHECK(message.find("Free some space") != std::string::npos);
  CHECK(message.find("what the store held before it is kept") != std::string::npos);
  // The run finished before is there as it was.
  Store store = Store::Open(path);
  const auto run = store.Run("demo", plan("demo", 0).hash);
  REQUIRE(run);
  CHECK(run->status == RunStatus::Done);
  CHECK(run->loss == 3.25);
  CHECK(store.Curve("demo", run->hash).size() == 5);
}

TEST_CASE("curves: step is the optimizer step of each point, seconds and lr are columns only when recorded") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/steps.db";
  Store store = Store::Open(path);
  store.RecordStudy({"s", "s.lua", "", "0.1.0", "{}"});
  RunPlan p = plan("s", 0);
  p.config.push_back(Value::Number("batch", 4));
  p.config.push_back(Value::Number("model_ctx", 8));  // 32 tokens a step
  store.PlanRun(p);
  RunOutcome outcome;
  outcome.loss = 3;
  // As stores written before the step was recorded hold them: the points' positions 1, 2, 3.
  for (int i = 1; i <= 3; ++i) {
    CurvePoint point;
    point.step = i;
    point.tokens = 32.0 * 10 * (i - 1);
    point.train_loss = 5 - i * 0.1;
    outcome.curve.push_back(point);
  }
  store.FinishRun("s", p.hash, outcome);
  auto curve = store.Curve("s", p.hash);
  REQUIRE(curve.size() == 3);
  CHECK(curve[0].step == 0);
  CHECK(curve[1].step == 10);
  CHECK(curve[2].step == 20);
  CHECK_THAT(store.CurvesCsv(), Catch::Contains("\ns," + p.hash + ",10,320,"));
  CHECK_THAT(store.CurvesCsv(), Catch::StartsWith("study,hash,step,tokens,train_loss,eval_loss\n"));

  // A run without batch and context in its configuration keeps the steps it recorded; a point with
  // seconds or a learning rate brings those columns.
  const std::string other = plan("s", 1).hash;
  store.PlanRun(plan("s", 1));
  RunOutcome timed;
  timed.loss = 3;
  CurvePoint point;
  point.step = 7;
  point.tokens = 700;
  point.seconds = 1.5;
  timed.curve.push_back(point);
  point.step = 14;
  point.tokens = 1400;
  point.seconds = 3;
  point.lr = 1e-3;
  timed.curve.push_back(point);
  store.FinishRun("s", other, timed);
  CHECK(store.Curve("s", other)[1].step == 14);
  const std::string csv = store.CurvesCsv();
  CHECK_THAT(csv, Catch::StartsWith("study,hash,step,tokens,train_loss,eval_loss,seconds,lr\n"));
  CHECK_THAT(csv, Catch::Contains("s," + other + ",7,700,,,1.5,\n"));
  CHECK_THAT(csv, Catch::Contains("s," + other + ",14,1400,,,3,0.001\n"));
}

TEST_CASE("a read-only open leaves nothing beside the store and changes nothing in it") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  const auto before = listing(dir);
  const std::string bytes = read_file(path);
  REQUIRE(before == std::set<std::string>{"results.db"});  // the writer removed its -wal and -shm
  {
    Store reader = Store::Open(path, {false, true});
    CHECK(reader.Runs().size() == 3);
    CHECK(reader.Curve("demo", plan("demo", 0).hash).size() == 5);
    CHECK_THAT(reader.Summary(), Catch::Contains("read-only"));
    CHECK_THROWS_WITH(reader.ResetRun("demo", plan("demo", 0).hash), Catch::Contains("read-only"));
    // Every write says that the store was opened read-only and how to write to it, not that the
    // file "is read-only here" (it is not: the connection is) in SQLite's words.
    const std::string opened = "results store '" + path + "' was opened read-only (store.open(path, { read_only = true }))";
    const std::string fix = "open it without read_only to write to it";
    CHECK_THROWS_WITH(reader.RecordStudy({"demo", "", "", "", ""}),
                      Catch::Contains(opened + ", so it cannot record a study") && Catch::Contains(fix));
    CHECK_THROWS_WITH(reader.PlanRun(plan("demo", 7)), Catch::Contains(opened + ", so it cannot plan runs"));
    CHECK_THROWS_WITH(reader.StartRun("demo", plan("demo", 1).hash, "", "", ""),
                      Catch::Contains(opened + ", so it cannot start a run"));
    CHECK_THROWS_WITH(reader.FinishRun("demo", plan("demo", 1).hash, RunOutcome{}),
                      Catch::Contains(opened + ", so it cannot record a run's result"));
    CHECK(reader.Runs().size() == 3);
  }
  CHECK(listing(dir) == before);
  CHECK(read_file(path) == bytes);

  // The -shm and empty -wal that a plain mode=ro reader leaves (as scalelab's did) go with the next read.
  sqlite3* plain = nullptr;
  REQUIRE(sqlite3_open_v2(("file:" + path + "?mode=ro").c_str(), &plain, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                          nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(plain, "SELECT count(*) FROM runs", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(plain);
  REQUIRE(exists(path + "-shm"));
  Store::Open(path, {false, true}).Runs();
  CHECK(listing(dir) == before);
  CHECK(read_file(path) == bytes);
}

TEST_CASE("a read-only open beside a writer reads its commits and never removes the writer's files") {
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  Store writer = Store::Open(path);
  const std::string hash = plan("demo", 1).hash;
  RunOutcome outcome;
  outcome.loss = 2.75;
  writer.FinishRun("demo", hash, outcome);  // in the writer's -wal, not yet in the file
  REQUIRE(exists(path + "-wal"));
  REQUIRE(exists(path + "-shm"));
  {
    Store reader = Store::Open(path, {false, true});
    CHECK(reader.Run("demo", hash)->loss == 2.75);
  }
  CHECK(exists(path + "-wal"));
  CHECK(exists(path + "-shm"));
  outcome.loss = 2.5;
  writer.FinishRun("demo", plan("demo", 2).hash, outcome);
  {
    Store reader = Store::Open(path, {false, true});
    CHECK(reader.Run("demo", plan("demo", 2).hash)->loss == 2.5);
  }
  writer.Close();
  CHECK(listing(dir) == std::set<std::string>{"results.db"});
  // A reader that opened first, then a writer: the reader's close leaves the writer's log.
  Store reader = Store::Open(path, {false, true});
  CHECK(reader.Runs({"", "done"}).size() == 3);
  Store late = Store::Open(path);
  late.ResetRun("demo", hash);
  reader.Close();
  CHECK(exists(path + "-wal"));
  CHECK(late.Run("demo", hash)->status == RunStatus::Planned);
  late.Close();
  CHECK(Store::Open(path, {false, true}).Run("demo", hash)->status == RunStatus::Planned);
}

namespace {

// The command prefix that runs a program as a user who cannot write a folder made read-only here:
// this user when not root; root writes anywhere, so as user nobody through runuser. Empty (with
// `why` set) when neither is possible.
std::vector<std::string> unprivileged(std::string* why) {
  if (::geteuid() != 0) return {};
  for (const char* runuser : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (::access(runuser, X_OK) == 0) {
      auto probe = scalelab::testing::run_process({runuser, "-u", "nobody", "--", "/bin/true"});
      if (probe.status == 0) return {runuser, "-u", "nobody", "--"};
      *why = "runuser -u nobody failed: " + probe.err;
      return {"?"};
    }
  }
  *why = "the tests run as root (who writes in any folder) and runuser is not installed";
  return {"?"};
}

}  // namespace

TEST_CASE("scalelab results says in one line that a store failed mid-read\, with no traceback") {
  // A store that another program changed (a column dropped): it opens, and reading its runs fails.
  const std::string dir = temp_dir();
  const std::string path = make_store(dir);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "ALTER TABLE runs DROP COLUMN unique_tokens", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  for (const char* option : {"", "--csv=-"}) {
    INFO(option);
    std::vector<std::string> command = {SCALELAB_BINARY, "results", path};
    if (*option) command.push_back(option);
    const auto listed = scalelab::testing::run_process(command);
    CHECK(listed.status == 1);
    CHECK_THAT(listed.err, Catch::Contains("scalelab results: ") && Catch::Contains("no such column: unique_tokens"));
    CHECK_THAT(listed.err, !Catch::Contains("traceback") && !Catch::Contains(".lua:"));
  }
}

TEST_CASE("scalelab results and store.open read a store in a folder the user cannot write") {
  std::string why;
  const std::vector<std::string> as_user = unprivileged(&why);
  if (as_user == std::vector<std::string>{"?"}) {
    WARN("skipped: " << why);
    return;
  }
  const std::string dir = temp_dir();
  ::chmod(dir.c_str(), 0755);  // others may enter (mkdtemp makes it 0700)
  const std::string folder = dir + "/locked";
  ::mkdir(folder.c_str(), 0755);
  const std::string path = folder + "/results.db";
  {
    const std::string made = make_store(dir);
    std::filesystem::copy_file(made, path);
  }
  const std::string script = dir + "/read.lua";
  write_file(script,
             "local s = store.open('" + path + "', { read_only = true })\n"
             "print('runs: ' .. #s:runs() .. ', points: ' .. #s:curve('demo', '" + plan("demo", 0).hash + "'))\n"
             "s:close()\n");
  ::chmod(script.c_str(), 0644);
  ::chmod(path.c_str(), 0444);
  ::chmod(folder.c_str(), 0555);
  struct Unlock {  // so that the folder can be removed when the tests end
    std::string folder;
    ~Unlock() { ::chmod(folder.c_str(), 0755); }
  } unlock{folder};

  auto command = as_user;
  for (const char* arg : {SCALELAB_BINARY, "results"}) command.push_back(arg);
  command.push_back(path);
  auto listed = scalelab::testing::run_process(command);
  CHECK(listed.status == 0);
  CHECK(listed.err == "");
  CHECK_THAT(listed.out, Catch::Contains("study demo") && Catch::Contains("3 runs"));

  command = as_user;
  command.push_back(SCALELAB_BINARY);
  command.push_back(script);
  auto read = scalelab::testing::run_process(command);
  CHECK(read.status == 0);
  CHECK(read.err == "");
  CHECK_THAT(read.out, Catch::Contains("runs: 3, points: 5"));
  CHECK(listing(folder) == std::set<std::string>{"results.db"});

  // With the -shm and empty -wal an earlier reader left there (read-only to this user too).
  ::chmod(folder.c_str(), 0755);
  sqlite3* plain = nullptr;
  REQUIRE(sqlite3_open_v2(("file:" + path + "?mode=ro").c_str(), &plain, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                          nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(plain, "SELECT count(*) FROM runs", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(plain);
  const std::set<std::string> left = {"results.db", "results.db-shm", "results.db-wal"};
  REQUIRE(listing(folder) == left);
  ::chmod((path + "-shm").c_str(), 0444);
  ::chmod((path + "-wal").c_str(), 0444);
  ::chmod(folder.c_str(), 0555);
  command = as_user;
  for (const char* arg : {SCALELAB_BINARY, "results"}) command.push_back(arg);
  command.push_back(path);
  listed = scalelab::testing::run_process(command);
  CHECK(listed.status == 0);
  CHECK(listed.err == "");
  CHECK_THAT(listed.out, Catch::Contains("3 runs"));
  CHECK(listing(folder) == left);

  // With the empty -wal alone (no -shm): the log holds nothing, so the file alone is read.
  ::chmod(folder.c_str(), 0755);
  REQUIRE(::unlink((path + "-shm").c_str()) == 0);
  ::chmod(folder.c_str(), 0555);
  listed = scalelab::testing::run_process(command);
  CHECK(listed.status == 0);
  CHECK(listed.err == "");
  CHECK_THAT(listed.out, Catch::Contains("3 runs"));
  CHECK(listing(folder) == std::set<std::string>{"results.db", "results.db-wal"});
}

TEST_CASE("a store whose folder cannot be written is refused in plain words, naming the folder and the way to read it") {
  const std::string dir = temp_dir();
  const std::string folder = dir + "/ro";
  std::filesystem::create_directories(folder);
  { Store::Open(folder + "/kept.db"); }  // a store made while the folder was writable
  ::chmod(dir.c_str(), 0755);
  ::chmod(folder.c_str(), 0555);  // root-owned or read-only: no one but root writes it
  for (const std::string name : {"new.db", "kept.db"}) {
    const std::string message = scalelab::testing::in_child_without_root([&] {
      Store::Open(folder + "/" + name);
      return std::string();
    });
    INFO(message);
    CHECK(message.find("results store '" + folder + "/" + name + "' cannot be written here: its folder '" + folder +
                       "' is not writable") != std::string::npos);
    CHECK(message.find("read_only = true") != std::string::npos);
    CHECK(message.find("PRAGMA") == std::string::npos);
  }
  ::chmod(folder.c_str(), 0755);
  // Reading it needs no writing.
  auto store = Store::Open(folder + "/kept.db", [] {
    StoreOptions o;
    o.read_only = true;
    o.create = false;
    return o;
  }());
  CHECK(store.Runs().empty());
}

TEST_CASE("a write waiting for another process's lock gives up after busy_timeout, and Ctrl-C does not cut it short") {
  const std::string path = temp_dir() + "/busy.db";
  Store::Open(path).Close();
  // Another connection (as another process would) holds the write lock.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); };
  {
    StoreOptions options;
    options.busy_timeout_seconds = 0.3;
    Store store = Store::Open(path, options);
    const auto start = clock::now();
    CHECK_THROWS_WITH(store.RecordStudy({"s", "s.lua", "", "0.1.0", "{}"}),
                      Catch::Contains("stayed locked by another process") && Catch::Contains("another scalelab"));
    CHECK(seconds_since(start) >= 0.3);  // it waited its timeout, not less
  }
  {
    // Ctrl-C a moment into the wait, and the lock released a moment later: the write waits for it
    // and goes through. The write may be a finished run's result, which giving up would lose (a
    // second Ctrl-C kills the program for someone who will not wait).
    Store store = Store::Open(path);
    std::thread ctrl_c_then_release([other] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      scalelab::request_interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    });
    store.RecordStudy({"s", "s.lua", "", "0.1.0", "{}"});
    ctrl_c_then_release.join();
    CHECK(store.Studies().size() == 1);
    CHECK(scalelab::interrupt_requested());  // left for the computation or the host to take
    scalelab::clear_interrupt();
  }
  sqlite3_close(other);
}

TEST_CASE("a store path that is a folder\, or in a folder that holds no files\, says so and what to give instead") {
  // A folder was refused as "exists but is not a regular file", with no fix.
  const std::string dir = temp_dir();
  CHECK_THROWS_WITH(Store::Open(dir), Catch::Contains("is a folder, not a file") &&
                                          Catch::Contains("Give a file path inside it (e.g. '" + dir + "/results.db')"));
  StoreOptions reading;
  reading.read_only = true;
  reading.create = false;
  CHECK_THROWS_WITH(Store::Open(dir, reading), Catch::Contains("Give a file path inside it"));
  // As root, /sys passes access(W_OK) but holds no new files: SQLite said only "unable to open
  // database file".
  if (::geteuid() == 0 && std::filesystem::is_directory("/sys/kernel")) {
    CHECK_THROWS_WITH(Store::Open("/sys/kernel/scalelab-test.db"),
                      Catch::Contains("cannot create results store '/sys/kernel/scalelab-test.db': its folder "
                                      "'/sys/kernel' cannot hold a new file (") &&
                          Catch::Contains("Give a store path in a folder you can write"));
  }
}

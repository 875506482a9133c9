// The results store of scaling studies: one SQLite file (WAL journal) per study by default.
//
//   studies     one row per study: its name, the path, SHA-256 and scalelab version of the script
//               version that last ran it, and a JSON description of the study
//   scripts     every script version that ever wrote to the store, by SHA-256, with its full text,
//               so each result traces back to the exact script that made it
//   runs        one row per planned run: its identity (SHA-256 of the canonical configuration),
//               the configuration as canonical JSON, status, attempts, timings, the headline numbers
//               (params, tokens, flops, loss, ...) and the script hash of the attempt that finished it
//   run_values  every configuration and result value of a run as (kind, key, number | text), the
//               long form that exports flatten into one column per key
//   curves      the loss curve of each run: optimizer step, tokens, train loss, eval loss, and the
//               seconds and learning rate where the backend reports them
//   meta        format name and schema version
//
// The file carries PRAGMA application_id 'SCLB' and PRAGMA user_version = the schema version, so a
// foreign SQLite file, a non-SQLite file, a corrupted file and a store written by a newer scalelab
// are each refused with a message saying which, before anything is written. Every write is one
// transaction: a process killed at any moment leaves the store as of the last committed write.
// Several processes (the executor's workers) may write at once; each waits its turn (busy timeout).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace scalelab::store {

constexpr int kSchemaVersion = 1;
// A number not measured or not applicable; NULL in the database, empty in CSV, null in JSON.
inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
constexpr int32_t kApplicationId = 0x53434C42;  // "SCLB"

struct StoreOptions {
  bool create = true;                 // create the file (and its folder) when it does not exist
  bool read_only = false;             // open without writing anything (scalelab results)
  double busy_timeout_seconds = 60;   // how long a write waits for another process's write
  void Validate() const;
};

// A configuration or result value: a number or a text.
struct Value {
  std::string key;
  bool is_number = true;
  double number = 0;
  std::string text;

  static Value Number(std::string key, double number) { return {std::move(key), true, number, {}}; }
  static Value Text(std::string key, std::string text) { return {std::move(key), false, 0, std::move(text)}; }
};

struct CurvePoint {
  double tokens = 0;
  int64_t step = 0;              // the optimizer step at this point
  double train_loss = kMissing;  // NaN when not measured at this point
  double eval_loss = kMissing;
  double seconds = kMissing;
  double lr = kMissing;
};

// A field left unset keeps what the store holds of a study it already records ("" for a new study):
// recording a study again with its name alone (store:record_study{ name = "t5" }) kept nothing, its
// version read "?" and its script became the empty one.
struct StudyInfo {
  std::string name;
  std::optional<std::string> script_path;
  std::optional<std::string> script_text;       // the script's bytes; its SHA-256 is computed here
  std::optional<std::string> scalelab_version;
  std::optional<std::string> spec_json;         // a JSON description of the study (sweep, fits, questions)
};

struct StudyRecord {
  std::string name;
  std::string script_path;
  std::string script_hash;
  std::string scalelab_version;
  std::string spec_json;
  double created_at = 0;
  double updated_at = 0;
};

// The statuses of a run. planned: known, never started. running: an attempt started and has not
// reported (its process may have been killed: the executor resumes it from its checkpoint).
enum class RunStatus { Planned, Running, Done, Failed, Diverged, Interrupted };
const char* to_string(RunStatus status);
RunStatus parse_status(const std::string& text);  // throws naming the valid statuses
// Done and Diverged are final: a rerun skips them. The others are started (again).
bool is_final(RunStatus status);

struct RunPlan {
  std::string study;
  std::string hash;           // SHA-256 of config_json
  int64_t ordinal = 0;        // position in the sweep
  std::string label;          // "N=1.2M D=24M", for people
  std::string config_json;    // canonical JSON of the configuration
  std::vector<Value> config;  // the same configuration, flattened to key → value
  // Headline numbers of the plan (NaN when unknown).
  double params = kMissing;
  double non_embedding_params = kMissing;
  double tokens = kMissing;
  double unique_tokens = kMissing;
  double epochs = kMissing;
  double flops = kMissing;
};

struct RunOutcome {
  RunStatus status = RunStatus::Done;
  double loss = kMissing;  // the final held-out loss
  double wall_seconds = kMissing;
  std::vector<Value> metrics;
  std::vector<CurvePoint> curve;
  std::string error;
  std::string script_hash;  // the script version of this attempt
};

struct RunRecord {
  std::string study;
  std::string hash;
  int64_t ordinal = 0;
  std::string label;
  std::string config_json;
  RunStatus status = RunStatus::Planned;
  int64_t attempts = 0;
  std::string script_hash;
  std::string scalelab_version;
  std::string checkpoint;
  std::string worker;
  std::string error;
  double created_at = kMissing;
  double started_at = kMissing;
  double finished_at = kMissing;
  double wall_seconds = kMissing;
  double params = kMissing;
  double non_embedding_params = kMissing;
  double tokens = kMissing;
  double unique_tokens = kMissing;
  double epochs = kMissing;
  double flops = kMissing;
  double loss = kMissing;
  std::vector<Value> config;
  std::vector<Value> metrics;
};

struct RunFilter {
  std::string study;   // "" = every study
  std::string status;  // "" = every status
};

class Store {
 public:
  // Opens (or creates) the store at `path`. Refuses, with a message naming the file and what is
  // wrong, and without writing to it: a file that is not SQLite, an SQLite file of another
  // application, a corrupted file, a store of a newer schema.
  static Store Open(const std::string& path, const StoreOptions& options = {});
  Store(Store&& other) noexcept;
  Store& operator=(Store&& other) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();
  void Close();

  const std::string& path() const { return path_; }
  bool is_open() const { return db_ != nullptr; }  // false after Close()
  bool read_only() const { return options_.read_only; }
  int schema_version() const;

  // Records that the script described by `info` is (again) running the study: upserts the study
  // row and the script text; a field `info` leaves unset keeps what is stored. Returns the SHA-256
  // of the study's script (the stored one where `info` gives no script_text).
  std::string RecordStudy(const StudyInfo& info);
  std::vector<StudyRecord> Studies() const;
  std::optional<StudyRecord> Study(const std::string& name) const;

  // Adds a planned run; a run already known (same study and hash) keeps its status and results and
  // only takes the new ordinal and label. Returns the run as stored.
  RunRecord PlanRun(const RunPlan& plan);
  // Plans many runs in one transaction.
  void PlanRuns(const std::vector<RunPlan>& plans);

  // Marks the run running (attempts + 1, started_at = now, worker, checkpoint). Returns false,
  // changing nothing, when it is already final (done or diverged).
  bool StartRun(const std::string& study, const std::string& hash, const std::string& worker,
                const std::string& checkpoint, const std::string& script_hash);
  // Writes the outcome, the metrics and the whole curve (replacing any earlier curve) in one
  // transaction.
  void FinishRun(const std::string& study, const std::string& hash, const RunOutcome& outcome);
  // Puts a run back to planned, dropping its results (scalelab's "rerun this").
  void ResetRun(const std::string& study, const std::string& hash);

  std::optional<RunRecord> Run(const std::string& study, const std::string& hash) const;
  std::vector<RunRecord> Runs(const RunFilter& filter = {}) const;
  // The run's curve in order of tokens. `step` is the optimizer step of each point, as recorded; in a
  // curve of a store written before scalelab recorded steps, which holds the points' positions
  // (1, 2, 3, ...), tokens divided by the tokens of one step where the run's configuration gives them
  // (batch, model_ctx).
  std::vector<CurvePoint> Curve(const std::string& study, const std::string& hash) const;

  // Exports for pandas: one row per run, one column per field, configuration key and metric
  // (pd.read_csv / pd.read_json read them as they are). A configuration key named like a field, or
  // beginning config_ or result_, is the column config_<key>; a metric named like a field or a
  // configuration column, or beginning config_ or result_, result_<key>: no two share a column.
  // Curves in long form, one row per point: study, hash, step, tokens, train_loss, eval_loss, and
  // seconds and lr when any point has them.
  std::string RunsCsv(const RunFilter& filter = {}) const;
  std::string RunsJson(const RunFilter& filter = {}) const;
  std::string CurvesCsv(const RunFilter& filter = {}) const;
  std::string CurvesJson(const RunFilter& filter = {}) const;

  // "Store(results.db: schema 1, 1 study, 24 runs: 20 done, 4 planned)"
  std::string Summary() const;

  // Fails when the file at the store's path is no longer the one opened for writing (deleted or
  // replaced while open), after saving what the connection holds; every write checks it. A study
  // checks it once more when it ends, for a store deleted after its last write.
  void CheckFile() const { check_file(); }

 private:
  Store(std::string path, StoreOptions options, sqlite3* db);
  sqlite3* db() const;
  // The connection, for a write that would `what` ("plan runs"); refuses a store opened read-only.
  sqlite3* writer(const char* what) const;
  // After a write: refuses to go on when the file at path_ is no longer the one opened (deleted or
  // replaced while open), after saving what the connection holds, which would go at its close.
  void check_file() const;
  std::string path_;
  StoreOptions options_;
  sqlite3* db_ = nullptr;
  bool identified_ = false;  // the file opened for writing: its device and inode
  uint64_t file_device_ = 0, file_inode_ = 0;
};

// Writes `text` to `path` through a temporary file and a rename (never a half-written export).
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace scalelab::store

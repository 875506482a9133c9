#include "store/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>

#include "core/error.h"
#include "store/sha256.h"

namespace scalelab::store {

namespace {

// ---- SQLite helpers -------------------------------------------------------------------------

// Where the file at `path` ends before the pages its SQLite header counts (a crash, a full disk or a
// copy that stopped cut it short): "it is truncated: ...", else "". Asked only of a file SQLite found
// damaged; the count is read only where the header vouches for it (its version-valid-for number is
// its change counter).
std::string truncation(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const auto size = static_cast<uint64_t>(in.tellg());
  unsigned char header[100];
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return "";
  const auto be32 = [&](int at) {
    return static_cast<uint64_t>(header[at]) << 24 | static_cast<uint64_t>(header[at + 1]) << 16 |
           static_cast<uint64_t>(header[at + 2]) << 8 | header[at + 3];
  };
  uint64_t page_size = static_cast<uint64_t>(header[16]) << 8 | header[17];
  if (page_size == 1) page_size = 65536;
  const uint64_t pages = be32(28);
  if (be32(92) != be32(24) || pages == 0 || page_size < 512 || size >= pages * page_size) return "";
  return str("it is truncated, holding ", size, " bytes of the ", pages * page_size, " its header counts (cut short by ",
             "a crash, a full disk or a copy that stopped)");
}

// The error for a store SQLite or its integrity check found damaged (`detail`: what they said), in the
// words of what was being done: reading it (scalelab results, store.open with read_only) changes
// nothing and has no study to give another path to; writing it refuses to go on.
[[noreturn]] void corrupted(const std::string& path, const std::string& detail, bool read_only) {
  const std::string cut = truncation(path);
  const std::string what = cut.empty() ? str("(", detail, ")") : str("(", detail, "): ", cut);
  if (read_only)
    fail("results store '", path, "' is corrupted ", what, ", so scalelab cannot read it; it left the file untouched. "
         "Restore it from a copy, or check the path");
  fail("results store '", path, "' is corrupted ", what, "; scalelab will not write to it and left it untouched. ",
       "Restore it from a copy, or move it aside (mv '", path, "' '", path, ".damaged') to start a new store there, or ",
       "give the study another store path");
}

// Whether connection `db` may only read: opened read-only, or with PRAGMA query_only (a read-only
// store where its reader may write its folder).
bool reading_only(sqlite3* db) {
  if (sqlite3_db_readonly(db, "main") == 1) return true;
  sqlite3_stmt* q = nullptr;
  bool only = false;
  if (sqlite3_prepare_v2(db, "PRAGMA query_only", -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    only = sqlite3_column_int(q, 0) != 0;
  sqlite3_finalize(q);
  return only;
}

[[noreturn]] void sql_fail(sqlite3* db, const std::string& path, const std::string& what) {
  const int code = db ? sqlite3_extended_errcode(db) & 0xff : SQLITE_ERROR;
  std::string message = db ? sqlite3_errmsg(db) : "unknown error";
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) corrupted(path, str(message, " while ", what), reading_only(db));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    fail("results store '", path, "' stayed locked by another process while ", what, " (", message,
         "); is another scalelab writing to it?");
  if (code == SQLITE_READONLY)
    fail("results store '", path, "' is read-only here (", message, ") while ", what);
  // A write the disk refused: SQLITE_FULL where the system said ENOSPC; a quota, a file size limit or
  // a failing disk are SQLite's "disk I/O error".
  if (code == SQLITE_FULL || code == SQLITE_IOERR)
    fail("results store '", path, "' could not be written (", message, " while ", what, "): ",
         code == SQLITE_FULL ? "the disk holding it is full" : "the disk holding it may be full, over a quota or "
         "a file size limit, or failing", ". The write was not made; what the store held before it is kept. Free "
         "some space (df -h ", path, ") and run again, or give the study a store path on another disk");
  throw SystemError(str("results store '", path, "': ", message, " while ", what));
}

class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      sql_fail(db, path, str("preparing \"", sql, "\""));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, double value) {
    check(std::isnan(value) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, value));
    return *this;
  }
  Statement& bind(int i, int64_t value) {
    check(sqlite3_bind_int64(stmt_, i, value));
    return *this;
  }
  Statement& bind(int i, int value) { return bind(i, static_cast<int64_t>(value)); }
  Statement& bind(int i, const std::string& value) {
    check(sqlite3_bind_text(stmt_, i, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, const char* value) { return bind(i, std::string(value)); }
  Statement& bind_value(int number_index, int text_index, const Value& value) {
    if (value.is_number) {
      bind(number_index, value.number);
      check(sqlite3_bind_null(stmt_, text_index));
    } else {
      check(sqlite3_bind_null(stmt_, number_index));
      bind(text_index, value.text);
    }
    return *this;
  }

  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sql_fail(db_, path_, str("running \"", sqlite3_sql(stmt_), "\""));
  }
  void run() {
    while (step()) {
    }
    reset();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  double number(int i) const { return null(i) ? kMissing : sqlite3_column_double(stmt_, i); }
  int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string text(int i) const {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) sql_fail(db_, path_, "binding a value");
  }
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& path, const char* sql, const char* what) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    sqlite3_free(error);
    sql_fail(db, path, what);
  }
}

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an exception unwinding).
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    exec(db_, path_, "BEGIN IMMEDIATE", "starting a write");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, path_, "COMMIT", "committing a write");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  bool done_ = false;
};

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

const char kSchema[] = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scripts(
  hash TEXT PRIMARY KEY,
  path TEXT,
  content TEXT NOT NULL,
  scalelab_version TEXT,
  first_seen REAL);
CREATE TABLE studies(
  name TEXT PRIMARY KEY,
  script_path TEXT,
  script_hash TEXT REFERENCES scripts(hash),
  scalelab_version TEXT,
  spec TEXT,
  created_at REAL,
  updated_at REAL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  study TEXT NOT NULL REFERENCES studies(name),
  hash TEXT NOT NULL,
  ordinal INTEGER NOT NULL,
  label TEXT,
  config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('planned','running','done','failed','diverged','interrupted')),
  attempts INTEGER NOT NULL DEFAULT 0,
  script_hash TEXT,
  scalelab_version TEXT,
  checkpoint TEXT,
  worker TEXT,
  error TEXT,
  created_at REAL,
  started_at REAL,
  finished_at REAL,
  wall_seconds REAL,
  params REAL,
  non_embedding_params REAL,
  tokens REAL,
  unique_tokens REAL,
  epochs REAL,
  flops REAL,
  loss REAL,
  UNIQUE (study, hash));
CREATE TABLE run_values(
  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('config','metric')),
  key TEXT NOT NULL,
  number REAL,
  text TEXT,
  PRIMARY KEY (run, kind, key));
CREATE TABLE curves(
  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  tokens REAL NOT NULL,
  train_loss REAL,
  eval_loss REAL,
  seconds REAL,
  lr REAL,
  PRIMARY KEY (run, step));
CREATE INDEX runs_by_status ON runs(study, status);
)sql";

// The first bytes of every SQLite 3 database file.
const char kSqliteMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

std::string printable_prefix(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 16)) {
    if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string uri_for(const std::string& path, const char* mode) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      uri += hex;
    } else {
      uri += c;
    }
  }
  return uri + "?mode=" + mode;  // mode may carry more parameters: "ro&immutable=1"
}

// Opens `path` to read, creating no file that outlives the connection and changing nothing in the
// store. SQLite's WAL mode needs the shared-memory file path-shm even to read, and a plain mode=ro
// connection creates path-shm and path-wal and, unable to take the write lock it needs to remove
// them, leaves them behind; in a folder the reader cannot write it fails outright ("attempt to write
// a readonly database"). So:
//  - where the reader may write the file and its folder, it opens read-write with PRAGMA
//    query_only (no statement may write): SQLite itself creates the -wal and -shm if need be and,
//    at close, removes them only when it is the last connection (it takes the write lock first,
//    and folds any committed writes of the log into the file, as every last connection does), so a
//    writer working meanwhile keeps its files and is read correctly;
//  - elsewhere (a read-only file or folder), when no connection has the store open (no path-shm)
//    and its log holds nothing (no path-wal, or an empty one), the file alone holds every committed
//    write: it opens with immutable=1, no lock, no -wal, no -shm;
//  - otherwise it opens with mode=ro, which reads the log through the existing -shm; if that fails
//    and the log is empty it falls back to immutable=1, and a log with writes in it that cannot be
//    read is an error saying how to read it.
// Returns the connection, ready to read (busy timeout set); throws naming the file otherwise.
sqlite3* open_for_reading(const std::string& path, double busy_timeout_seconds, bool read_only) {
  struct stat wal {}, shm {};
  const bool has_wal = ::stat((path + "-wal").c_str(), &wal) == 0;
  const bool has_shm = ::stat((path + "-shm").c_str(), &shm) == 0;
  const bool log_empty = !has_wal || wal.st_size == 0;
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  const bool writable = ::access(path.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0;

  int code = SQLITE_OK;  // of the last failure
  auto open = [&](const char* parameters, int flags, std::string* message) -> sqlite3* {
    sqlite3* db = nullptr;
    const std::string uri = uri_for(path, parameters);
    if (sqlite3_open_v2(uri.c_str(), &db, flags | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
      *message = db ? sqlite3_errmsg(db) : "out of memory";
      code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
      sqlite3_close(db);
      return nullptr;
    }
    sqlite3_busy_timeout(db, static_cast<int>(busy_timeout_seconds * 1000));
    sqlite3_extended_result_codes(db, 1);
    // The first read is where a WAL database opens its log and shared memory, and fails if it cannot.
    char* error = nullptr;
    const char* probe = (flags & SQLITE_OPEN_READWRITE) ? "PRAGMA query_only = ON; SELECT count(*) FROM sqlite_master"
                                                         : "SELECT count(*) FROM sqlite_master";
    if (sqlite3_exec(db, probe, nullptr, nullptr, &error) != SQLITE_OK) {
      *message = error ? error : sqlite3_errmsg(db);
      code = sqlite3_errcode(db);
      sqlite3_free(error);
      sqlite3_close(db);
      return nullptr;
    }
    return db;
  };
  std::string message;
  sqlite3* db = nullptr;
  if (writable) {
    db = open("rw", SQLITE_OPEN_READWRITE, &message);
  } else if (log_empty && !has_shm) {
    db = open("ro&immutable=1", SQLITE_OPEN_READONLY, &message);
  } else {
    db = open("ro", SQLITE_OPEN_READONLY, &message);
    if (!db && log_empty) db = open("ro&immutable=1", SQLITE_OPEN_READONLY, &message);
    if (!db && !log_empty && (code & 0xff) != SQLITE_CORRUPT && (code & 0xff) != SQLITE_NOTADB)
      fail("cannot read results store '", path, "': its write-ahead log '", path, "-wal' holds writes that ",
           "SQLite reads only through '", path, "-shm', which cannot be made or used here (", message, "). Open ",
           "the store once where its folder is writable (any scalelab command does), or copy '", path, "' and '",
           path, "-wal' together into a writable folder and read the copy.");
  }
  if (!db && ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)) corrupted(path, message, read_only);
  if (!db) fail("cannot open results store '", path, "': ", message);
  return db;
}

// Inspects an existing SQLite file without writing to it. Returns true when it is a scalelab store,
// false when it is an empty SQLite database (no tables, no application id) that may be initialised;
// throws for anything else.
bool inspect_existing(const std::string& path, bool read_only) {
  sqlite3* db = open_for_reading(path, 10, read_only);
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{db};
  // A read that finds the file damaged fails in the words of what the open is for (reading or
  // writing), not those of this connection, which only reads.
  auto guarded = [&](auto read) {
    try {
      read();
    } catch (const std::exception&) {
      const int code = sqlite3_extended_errcode(db) & 0xff;
      if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) corrupted(path, sqlite3_errmsg(db), read_only);
      throw;
    }
  };
  auto integer = [&](const char* sql) {
    Statement s(db, path, sql);
    return s.step() ? s.integer(0) : 0;
  };
  int64_t application_id = 0, version = 0;
  std::vector<std::string> tables;
  guarded([&] {
    application_id = integer("PRAGMA application_id");
    version = integer("PRAGMA user_version");
    Statement s(db, path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    while (s.step()) tables.push_back(s.text(0));
  });
  if (application_id != kApplicationId) {
    if (application_id == 0 && tables.empty()) return false;
    std::string names;
    for (size_t i = 0; i < tables.size() && i < 6; ++i) names += (i ? ", " : "") + tables[i];
    if (tables.size() > 6) names += ", ...";
    char id[16];
    std::snprintf(id, sizeof id, "0x%08x", static_cast<unsigned>(application_id));
    fail("'", path, "' is an SQLite database but not a scalelab results store (application_id ", id,
         tables.empty() ? "" : ", tables: ", names,
         "); scalelab left it untouched. ", read_only ? "Check the path: a results store is a .db file that scalelab wrote"
                                                      : "Give the study another store path", ".");
  }
  if (version > kSchemaVersion)
    fail("results store '", path, "' has schema version ", version, ", written by a newer scalelab; this ",
         "scalelab reads schema versions up to ", kSchemaVersion, ". Upgrade scalelab to use it.");
  if (version < 1)
    fail("results store '", path, "' has the scalelab application id but no schema version; it is "
         "damaged or was never initialised. scalelab left it untouched.");
  std::vector<std::string> problems;
  guarded([&] {
    Statement s(db, path, "PRAGMA quick_check(5)");
    while (s.step()) problems.push_back(s.text(0));
  });
  if (!(problems.size() == 1 && problems[0] == "ok")) {
    // One line: SQLite's report spans several ("*** in database main ***\nPage 3: ..."), and an
    // error's first line is all that scalelab results and a study's dry run print.
    std::string detail;
    for (const auto& p : problems) {
      size_t begin = 0;
      while (begin <= p.size()) {
        size_t end = p.find('\n', begin);
        if (end == std::string::npos) end = p.size();
        const std::string line = p.substr(begin, end - begin);
        if (!line.empty()) detail += (detail.empty() ? "" : "; ") + line;
        begin = end + 1;
      }
    }
    corrupted(path, "integrity check: " + detail, read_only);
  }
  for (const char* table : {"meta", "studies", "scripts", "runs", "run_values", "curves"}) {
    if (std::find(tables.begin(), tables.end(), table) == tables.end())
      fail("results store '", path, "' lacks its '", table, "' table; it is damaged. scalelab left it untouched.");
  }
  return true;
}

void write_values(sqlite3* db, const std::string& path, int64_t run, const char* kind,
                  const std::vector<Value>& values) {
  Statement insert(db, path,
                   "INSERT OR REPLACE INTO run_values(run, kind, key, number, text) VALUES (?, ?, ?, ?, ?)");
  for (const Value& v : values) {
    insert.bind(1, run).bind(2, kind).bind(3, v.key).bind_value(4, 5, v);
    insert.run();
  }
}

// ---- CSV and JSON writing ---------------------------------------------------------------------

std::string number_text(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  // The shortest form that reads back to the same double.
  for (int digits = 6; digits < 17; ++digits) {
    char shorter[40];
    std::snprintf(shorter, sizeof shorter, "%.*g", digits, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buffer;
}

// The length of the valid UTF-8 character at text[i] (1 to 4), or 0 when the byte there starts none
// (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, cut short).
size_t utf8_length(const std::string& text, size_t i) {
  const auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  const unsigned b = byte(i);
  if (b < 0x80) return 1;
  size_t length;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    length = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    length = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    length = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Text as valid UTF-8, which JSON requires and CSV readers (pandas) expect: each byte that is no
// part of a valid character (a name in Latin-1, say) becomes U+FFFD; the store keeps the bytes.
std::string valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

// A text as one CSV field. A NUL byte becomes U+FFFD, as a byte that is no valid UTF-8 does: CSV has
// no escape a reader decodes (a written "\0" would read as two characters, indistinguishable from
// those two typed), and a raw NUL stops readers (Python's csv before 3.11: "line contains NUL"; R's
// read.csv). The JSON export keeps it, as \u0000, which every JSON reader decodes.
std::string csv_field(const std::string& raw) {
  std::string text = valid_utf8(raw);
  for (size_t at = text.find('\0'); at != std::string::npos; at = text.find('\0', at + 3))
    text.replace(at, 1, "\xEF\xBF\xBD");
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : valid_utf8(text)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", c);
          out += hex;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";  // JSON has no NaN or infinity
  return number_text(value);
}

// A table of cells: each cell a number (NaN = missing) or a text.
struct Cell {
  bool is_number = true;
  double number = kMissing;
  std::string text;
};
using Row = std::map<std::string, Cell>;

std::string to_csv(const std::vector<std::string>& columns, const std::vector<Row>& rows) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + csv_field(columns[i]);
  out += "\n";
  for (const Row& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) out += ",";
      auto it = row.find(columns[i]);
      if (it == row.end()) continue;
      out += it->second.is_number ? number_text(it->second.number) : csv_field(it->second.text);
    }
    out += "\n";
  }
  return out;
}

// A JSON array of records: pd.read_json(path) reads it as a DataFrame, one column per key.
std::string to_json(const std::vector<std::string>& columns, const std::vector<Row>& rows) {
  std::string out = "[";
  for (size_t r = 0; r < rows.size(); ++r) {
    out += r ? ",\n {" : "\n {";
    bool first = true;
    for (const std::string& column : columns) {
      auto it = rows[r].find(column);
      if (it == rows[r].end()) continue;
      out += (first ? "" : ", ") + json_string(column) + ": ";
      out += it->second.is_number ? json_number(it->second.number) : json_string(it->second.text);
      first = false;
    }
    out += "}";
  }
  return out + (rows.empty() ? "]\n" : "\n]\n");
}

Cell number_cell(double v) { return Cell{true, v, {}}; }
Cell text_cell(std::string t) { return Cell{false, 0, std::move(t)}; }
// A text the run may lack (no label, no error, not started by any worker): missing when empty, as a
// number it lacks is (an empty field in CSV, null in JSON, where "" would read as a value).
Cell optional_text_cell(std::string t) { return t.empty() ? number_cell(kMissing) : text_cell(std::move(t)); }

const std::vector<std::string>& run_columns() {
  static const std::vector<std::string> columns = {
      "study", "hash", "ordinal", "label", "status", "attempts", "params", "non_embedding_params",
      "tokens", "unique_tokens", "epochs", "flops", "loss", "wall_seconds", "created_at", "started_at",
      "finished_at", "script_hash", "scalelab_version", "worker", "error"};
  return columns;
}

Row run_row(const RunRecord& r) {
  Row row;
  row["study"] = text_cell(r.study);
  row["hash"] = text_cell(r.hash);
  row["ordinal"] = number_cell(static_cast<double>(r.ordinal));
  row["label"] = optional_text_cell(r.label);
  row["status"] = text_cell(to_string(r.status));
  row["attempts"] = number_cell(static_cast<double>(r.attempts));
  row["params"] = number_cell(r.params);
  row["non_embedding_params"] = number_cell(r.non_embedding_params);
  row["tokens"] = number_cell(r.tokens);
  row["unique_tokens"] = number_cell(r.unique_tokens);
  row["epochs"] = number_cell(r.epochs);
  row["flops"] = number_cell(r.flops);
  row["loss"] = number_cell(r.loss);
  row["wall_seconds"] = number_cell(r.wall_seconds);
  row["created_at"] = number_cell(r.created_at);
  row["started_at"] = number_cell(r.started_at);
  row["finished_at"] = number_cell(r.finished_at);
  row["script_hash"] = optional_text_cell(r.script_hash);
  row["scalelab_version"] = optional_text_cell(r.scalelab_version);
  row["worker"] = optional_text_cell(r.worker);
  row["error"] = optional_text_cell(r.error);
  return row;
}

// Whether a study's run drew its losses instead of training (backend "simulated" or "law"): such a
// run measured no speed, whatever its backend reported (0, or tokens over the drawing's milliseconds).
bool simulated_run(const RunRecord& r) {
  for (const Value& v : r.config)
    if (v.key == "backend_kind" && !v.is_number && (v.text == "simulated" || v.text == "law")) return true;
  for (const Value& v : r.metrics)
    if (v.key == "backend" && !v.is_number && v.text == "simulated") return true;
  return false;
}

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// Rows for the run exports: the fixed columns, then configuration keys, then metric keys, each key
// in a column of its own whatever it is named. A configuration key named like a fixed column, or
// beginning "config_" or "result_", gets the prefix "config_" (config_tokens, config_status); a metric
// named like a fixed or a configuration column, or beginning "config_" or "result_", gets "result_"
// (result_flops). So no two keys share a column and no key takes a fixed one: a column beginning
// config_ holds the configuration key after that prefix, one beginning result_ the metric after it.
// (A configuration key named like a fixed column was left out, as if it were the headline number: a
// run's status = or loss = was lost, and a study's unique_tokens, the U it asked for, behind the U
// its runs saw.) A simulated run's speeds are missing.
void run_table(const std::vector<RunRecord>& runs, std::vector<std::string>* columns, std::vector<Row>* rows) {
  *columns = run_columns();
  const std::set<std::string> fixed(run_columns().begin(), run_columns().end());
  auto config_column = [&](const std::string& key) {
    return fixed.count(key) || starts_with(key, "config_") || starts_with(key, "result_") ? "config_" + key : key;
  };
  std::set<std::string> config_columns, metric_columns;
  for (const RunRecord& r : runs)
    for (const Value& v : r.config) config_columns.insert(config_column(v.key));
  auto metric_column = [&](const std::string& key) {
    return fixed.count(key) || config_columns.count(key) || starts_with(key, "config_") || starts_with(key, "result_")
               ? "result_" + key
               : key;
  };
  for (const RunRecord& r : runs)
    for (const Value& v : r.metrics) metric_columns.insert(metric_column(v.key));
  columns->insert(columns->end(), config_columns.begin(), config_columns.end());
  columns->insert(columns->end(), metric_columns.begin(), metric_columns.end());
  for (const RunRecord& r : runs) {
    Row row = run_row(r);
    for (const Value& v : r.config) row[config_column(v.key)] = v.is_number ? number_cell(v.number) : text_cell(v.text);
    const bool simulated = simulated_run(r);
    for (const Value& v : r.metrics) {
      const bool speed = v.key == "tokens_per_second" || v.key == "flops_per_second" || v.key == "mfu";
      row[metric_column(v.key)] = simulated && speed ? number_cell(kMissing)
                                  : v.is_number      ? number_cell(v.number)
                                                     : text_cell(v.text);
    }
    rows->push_back(std::move(row));
  }
}

}  // namespace

// ---- Options and statuses -----------------------------------------------------------------------

void StoreOptions::Validate() const {
  if (!(busy_timeout_seconds >= 0) || !std::isfinite(busy_timeout_seconds))
    fail("store options: busy_timeout must be a finite number of seconds >= 0 (got ", busy_timeout_seconds, ")");
  // SQLite takes the wait in milliseconds as an int: a longer one would overflow it (undefined).
  if (busy_timeout_seconds > 2147483)
    fail("store options: busy_timeout must be at most 2147483 seconds (about 24 days: SQLite counts the wait in "
         "milliseconds in an int); got ", busy_timeout_seconds);
  if (read_only && create) {
    // Nothing to create in read-only mode; silently meaningless, so refuse it.
    fail("store options: read_only and create cannot both be set");
  }
}

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::Planned: return "planned";
    case RunStatus::Running: return "running";
    case RunStatus::Done: return "done";
    case RunStatus::Failed: return "failed";
    case RunStatus::Diverged: return "diverged";
    case RunStatus::Interrupted: return "interrupted";
  }
  return "?";
}

RunStatus parse_status(const std::string& text) {
  for (RunStatus s : {RunStatus::Planned, RunStatus::Running, RunStatus::Done, RunStatus::Failed,
                      RunStatus::Diverged, RunStatus::Interrupted})
    if (text == to_string(s)) return s;
  fail("unknown run status '", text, "' (valid: planned, running, done, failed, diverged, interrupted)");
}

bool is_final(RunStatus status) { return status == RunStatus::Done || status == RunStatus::Diverged; }

// ---- Store ----------------------------------------------------------------------------------------

Store::Store(std::string path, StoreOptions options, sqlite3* db)
    : path_(std::move(path)), options_(options), db_(db) {}

Store::Store(Store&& other) noexcept
    : path_(std::move(other.path_)),
      options_(other.options_),
      db_(std::exchange(other.db_, nullptr)),
      identified_(other.identified_),
      file_device_(other.file_device_),
      file_inode_(other.file_inode_) {}

Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    Close();
    path_ = std::move(other.path_);
    options_ = other.options_;
    db_ = std::exchange(other.db_, nullptr);
    identified_ = other.identified_;
    file_device_ = other.file_device_;
    file_inode_ = other.file_inode_;
  }
  return *this;
}

Store::~Store() { Close(); }

void Store::Close() {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

sqlite3* Store::db() const {
  if (!db_) fail("results store '", path_, "' is closed");
  return db_;
}

sqlite3* Store::writer(const char* what) const {
  if (options_.read_only)
    fail("results store '", path_, "' was opened read-only (store.open(path, { read_only = true })), so it cannot ",
         what, "; open it without read_only to write to it (nothing was written)");
  return db();
}

void Store::check_file() const {
  if (!identified_ || !db_) return;
  struct stat info {};
  const bool there = ::stat(path_.c_str(), &info) == 0;
  if (there && static_cast<uint64_t>(info.st_dev) == file_device_ && static_cast<uint64_t>(info.st_ino) == file_inode_)
    return;
  // Deleted (rm, a clean-up) or replaced (mv, cp over it) while open: SQLite goes on writing to the
  // file this connection holds, which no path names any more, so all it holds would go at its close
  // and the study would end as if it had recorded its runs. Saved first: back in its place when the
  // place is free, else beside it, leaving the file that is there now alone.
  const std::string saved = there ? str(path_, ".saved-", ::getpid(), ".db") : path_;
  {
    Statement vacuum(db_, path_, "VACUUM INTO ?");
    vacuum.bind(1, saved);
    try {
      vacuum.run();
    } catch (const std::exception& e) {
      fail("results store '", path_, "' was ", there ? "replaced by another file" : "deleted",
           " while scalelab had it open, and what it recorded could not be saved (", e.what(),
           "): it goes when this scalelab ends. Keep this program running and free the path ", saved,
           " if you can; scalelab stops writing here");
    }
  }
  if (there)
    fail("results store '", path_, "' was replaced by another file while scalelab had it open (or deleted and "
         "written back by another process of the study); what scalelab "
         "had recorded in it (up to the last write, included) is saved as '", saved, "', and the file now at '",
         path_, "' was left alone. Put the saved store in its place (mv '", saved, "' '", path_, "') or give the "
         "study store = \"", saved, "\", and run it again to go on");
  fail("results store '", path_, "' was deleted while scalelab had it open; scalelab wrote it back there, with "
       "everything recorded up to the last write, included, and stops here. Run the study again to go on");
}

Store Store::Open(const std::string& path, const StoreOptions& options) {
  options.Validate();
  if (path.empty()) fail("results store: the path is empty");
  struct stat info {};
  bool initialised = false;
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode))
      fail("results store '", path, "' is a folder, not a file: a results store is one SQLite file. Give a file "
           "path inside it (e.g. '", (std::filesystem::path(path) / "results.db").string(), "')",
           options.read_only ? "" : ", or the path of a new file in a writable folder");
    if (!S_ISREG(info.st_mode))
      fail("results store '", path, "' exists but is not a regular file (a device, pipe or socket): a results store "
           "is one SQLite file. Give the path of a file", options.read_only ? "" : " (a new one in a writable folder)");
    if (info.st_size > 0) {
      std::ifstream in(path, std::ios::binary);
      if (!in) fail("cannot read results store '", path, "': ", std::strerror(errno));
      std::string head(100, '\0');
      in.read(&head[0], 100);
      head.resize(static_cast<size_t>(in.gcount()));
      // A store cut short (a crash, a full disk or a copy that stopped) before the end of SQLite's
      // 100-byte header: it begins as one, so saying it is no SQLite database would mislead.
      if (head.size() < 100 && head.size() >= 6 &&
          std::memcmp(head.data(), kSqliteMagic, std::min<size_t>(head.size(), 16)) == 0)
        fail("results store '", path, "' is truncated: it holds ", head.size(), " bytes, which begin as an SQLite "
             "database but end before its 100-byte header does (cut short by a crash, a full disk or a copy that "
             "stopped). scalelab left it untouched; restore it from a copy",
             options.read_only ? "" : ", or give the study another store path", ".");
      if (head.size() < 100 || std::memcmp(head.data(), kSqliteMagic, 16) != 0)
        fail("'", path, "' is not a scalelab results store: it is not an SQLite database (it begins \"",
             printable_prefix(head), "\"). scalelab left it untouched; ",
             options.read_only ? "check the path: a results store is a .db file that scalelab wrote"
                               : str("move it aside (mv '", path, "' '", path, ".moved') or give the study another store path"),
             ".");
      initialised = inspect_existing(path, options.read_only);
    }
  } else if (errno != ENOENT) {
    fail("cannot open results store '", path, "': ", std::strerror(errno));
  } else if (!options.create) {
    fail("no results store at '", path, "' (no such file)");
  } else {
    // A new store in a folder that does not exist yet: make the folder, as corpus:save does.
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!folder.empty() && !std::filesystem::exists(folder, error)) {
      std::filesystem::create_directories(folder, error);
      if (error)
        fail("cannot create the folder '", folder.string(), "' for results store '", path, "': ",
             error.message());
    }
  }

  if (options.read_only) {
    if (!initialised)
      fail("results store '", path, "' is empty (", info.st_size == 0 ? "0 bytes" : "an SQLite database with no tables",
           "): nothing to read, as no study has written to it (a file made by hand, or a study stopped before its ",
           "first write). Check the path, or run the study to fill it");
    Store store(path, options, open_for_reading(path, options.busy_timeout_seconds, true));
    exec(store.db_, path, "PRAGMA foreign_keys = ON", "enabling foreign keys");
    return store;
  }
  // Writing needs the file and its folder (SQLite keeps its write-ahead log and lock files beside
  // the store): say so before SQLite does in its own words.
  {
    std::string folder = std::filesystem::path(path).parent_path().string();
    if (folder.empty()) folder = ".";
    if (::access(folder.c_str(), W_OK) != 0)
      fail("results store '", path, "' cannot be written here: its folder '", folder, "' is not writable (",
           std::strerror(errno), "; SQLite writes its journal beside the store). Give a store path in a folder "
           "you can write; to read it, scalelab results (or store.open with read_only = true) reads it as it is");
    if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0)
      fail("results store '", path, "' is not writable (", std::strerror(errno), "). Make it writable or give another "
           "store path; to read it, scalelab results (or store.open with read_only = true) reads it as it is");
  }
  sqlite3* db = nullptr;
  const std::string uri = uri_for(path, "rwc");
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    // SQLite says only "unable to open database file": where the store is new, make the file here
    // to learn why (a folder that holds no files, as /sys or /proc even for root, or a read-only
    // one), and remove it again.
    if (::access(path.c_str(), F_OK) != 0) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd < 0) {
        std::string folder = std::filesystem::path(path).parent_path().string();
        if (folder.empty()) folder = ".";
        fail("cannot create results store '", path, "': its folder '", folder, "' cannot hold a new file (",
             std::strerror(errno), "). Give a store path in a folder you can write");
      }
      ::close(fd);
      ::unlink(path.c_str());
    }
    fail("cannot open results store '", path, "': ", message);
  }
  Store store(path, options, db);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout_seconds * 1000));
  sqlite3_extended_result_codes(db, 1);
  exec(db, path, "PRAGMA foreign_keys = ON", "enabling foreign keys");
  {
    Statement mode(db, path, "PRAGMA journal_mode = WAL");
    mode.step();
  }
  exec(db, path, "PRAGMA synchronous = NORMAL", "setting synchronous mode");
  if (!initialised) {
    Transaction tx(db, path);
    Statement version(db, path, "PRAGMA user_version");
    const int64_t existing = version.step() ? version.integer(0) : 0;
    version.reset();
    if (existing == 0) {  // nobody initialised it while we waited for the write lock
      exec(db, path, kSchema, "creating the schema");
      exec(db, path, str("PRAGMA application_id = ", kApplicationId).c_str(), "setting the application id");
      exec(db, path, str("PRAGMA user_version = ", kSchemaVersion).c_str(), "setting the schema version");
      Statement meta(db, path, "INSERT INTO meta(key, value) VALUES (?, ?)");
      meta.bind(1, "format").bind(2, "scalelab results store").run();
      meta.bind(1, "schema_version").bind(2, std::to_string(kSchemaVersion)).run();
      meta.bind(1, "created_at").bind(2, number_text(now_seconds())).run();
    }
    tx.commit();
  }
  struct stat opened {};
  if (::stat(path.c_str(), &opened) == 0) {
    store.identified_ = true;
    store.file_device_ = static_cast<uint64_t>(opened.st_dev);
    store.file_inode_ = static_cast<uint64_t>(opened.st_ino);
  }
  return store;
}

int Store::schema_version() const {
  Statement s(db(), path_, "PRAGMA user_version");
  return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

std::string Store::RecordStudy(const StudyInfo& info) {
  if (info.name.empty()) fail("results store: a study needs a name");
  const double now = now_seconds();
  Transaction tx(writer("record a study"), path_);
  const std::optional<StudyRecord> stored = Study(info.name);
  const auto kept = [&](const std::optional<std::string>& given, std::string StudyRecord::*field) {
    return given ? *given : stored ? (*stored).*field : std::string();
  };
  const std::string script_path = kept(info.script_path, &StudyRecord::script_path);
  const std::string version = kept(info.scalelab_version, &StudyRecord::scalelab_version);
  const std::string spec = kept(info.spec_json, &StudyRecord::spec_json);
  std::string hash;
  if (!info.script_text && stored) {
    hash = stored->script_hash;
  } else {
    const std::string text = info.script_text.value_or("");
    hash = sha256_hex(text);
    Statement script(db_, path_,
                     "INSERT OR IGNORE INTO scripts(hash, path, content, scalelab_version, first_seen) "
                     "VALUES (?, ?, ?, ?, ?)");
    script.bind(1, hash).bind(2, script_path).bind(3, text).bind(4, version).bind(5, now);
    script.run();
  }
  Statement study(db_, path_,
                  "INSERT INTO studies(name, script_path, script_hash, scalelab_version, spec, created_at, updated_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT(name) DO UPDATE SET script_path = ?2, "
                  "script_hash = ?3, scalelab_version = ?4, spec = ?5, updated_at = ?6");
  study.bind(1, info.name).bind(2, script_path).bind(3, hash).bind(4, version).bind(5, spec).bind(6, now);
  study.run();
  tx.commit();
  check_file();
  return hash;
}

namespace {
StudyRecord read_study(const Statement& s) {
  StudyRecord r;
  r.name = s.text(0);
  r.script_path = s.text(1);
  r.script_hash = s.text(2);
  r.scalelab_version = s.text(3);
  r.spec_json = s.text(4);
  r.created_at = s.number(5);
  r.updated_at = s.number(6);
  return r;
}
const char kStudyColumns[] =
    "SELECT name, script_path, script_hash, scalelab_version, spec, created_at, updated_at FROM studies";
}  // namespace

std::vector<StudyRecord> Store::Studies() const {
  Statement s(db(), path_, (std::string(kStudyColumns) + " ORDER BY created_at, name").c_str());
  std::vector<StudyRecord> out;
  while (s.step()) out.push_back(read_study(s));
  return out;
}

std::optional<StudyRecord> Store::Study(const std::string& name) const {
  Statement s(db(), path_, (std::string(kStudyColumns) + " WHERE name = ?").c_str());
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_study(s);
}

void Store::PlanRuns(const std::vector<RunPlan>& plans) {
  Transaction tx(writer("plan runs"), path_);
  Statement insert(db_, path_,
                   "INSERT INTO runs(study, hash, ordinal, label, config, status, created_at, params, "
                   "non_embedding_params, tokens, unique_tokens, epochs, flops) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, 'planned', ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                   "ON CONFLICT(study, hash) DO UPDATE SET ordinal = ?3, label = ?4");
  Statement id(db_, path_, "SELECT id FROM runs WHERE study = ? AND hash = ?");
  const double now = now_seconds();
  for (const RunPlan& p : plans) {
    if (p.study.empty() || p.hash.empty()) fail("results store: a planned run needs a study and a hash");
    if (!Study(p.study)) fail("results store: study '", p.study, "' is not recorded; record the study first");
    insert.bind(1, p.study).bind(2, p.hash).bind(3, p.ordinal).bind(4, p.label).bind(5, p.config_json)
        .bind(6, now).bind(7, p.params).bind(8, p.non_embedding_params).bind(9, p.tokens)
        .bind(10, p.unique_tokens).bind(11, p.epochs).bind(12, p.flops);
    insert.run();
    id.bind(1, p.study).bind(2, p.hash);
    SCALELAB_CHECK(id.step());
    const int64_t run = id.integer(0);
    id.reset();
    write_values(db_, path_, run, "config", p.config);
  }
  tx.commit();
  check_file();
}

RunRecord Store::PlanRun(const RunPlan& plan) {
  PlanRuns({plan});
  return *Run(plan.study, plan.hash);
}

bool Store::StartRun(const std::string& study, const std::string& hash, const std::string& worker,
                     const std::string& checkpoint, const std::string& script_hash) {
  Transaction tx(writer("start a run"), path_);
  Statement s(db_, path_, "SELECT status FROM runs WHERE study = ? AND hash = ?");
  s.bind(1, study).bind(2, hash);
  if (!s.step()) fail("results store: study '", study, "' has no run ", hash);
  if (is_final(parse_status(s.text(0)))) return false;
  s.reset();
  Statement update(db_, path_,
                   "UPDATE runs SET status = 'running', attempts = attempts + 1, started_at = ?, worker = ?, "
                   "checkpoint = ?, script_hash = ?, error = NULL WHERE study = ? AND hash = ?");
  update.bind(1, now_seconds()).bind(2, worker).bind(3, checkpoint).bind(4, script_hash).bind(5, study).bind(6, hash);
  update.run();
  tx.commit();
  check_file();
  return true;
}

namespace {

// The id of a study's run, or an error naming both when the store has no such run.
int64_t run_id(sqlite3* db, const std::string& path, const std::string& study, const std::string& hash) {
  Statement id(db, path, "SELECT id FROM runs WHERE study = ? AND hash = ?");
  id.bind(1, study).bind(2, hash);
  if (!id.step()) fail("results store: study '", study, "' has no run ", hash);
  return id.integer(0);
}

// Deletes a run's final metrics and its loss curve (before a new result, or a reset to planned).
void drop_results(sqlite3* db, const std::string& path, int64_t run) {
  Statement metrics(db, path, "DELETE FROM run_values WHERE run = ? AND kind = 'metric'");
  metrics.bind(1, run).run();
  Statement curve(db, path, "DELETE FROM curves WHERE run = ?");
  curve.bind(1, run).run();
}

}  // namespace

void Store::FinishRun(const std::string& study, const std::string& hash, const RunOutcome& o) {
  // The curve keeps one point per optimizer step: a second point at a step would replace the first
  // (INSERT OR REPLACE), so a curve of 9 points could come back with 5, without a word. Refused
  // before anything is written, naming both points.
  {
    std::map<int64_t, size_t> first_at;
    for (size_t i = 0; i < o.curve.size(); ++i) {
      const auto [it, fresh] = first_at.emplace(o.curve[i].step, i);
      if (!fresh)
        fail("results store: run ", hash, " of study '", study, "': curve points ", it->second + 1, " and ", i + 1,
             " (at ", number_text(o.curve[it->second].tokens), " and ", number_text(o.curve[i].tokens),
             " tokens) both have optimizer step ", o.curve[i].step, "; the store keeps one point per step. Give each "
             "point its own step, or merge the two; nothing of the run was written");
    }
  }
  Transaction tx(writer("record a run's result"), path_);
  const int64_t run = run_id(db_, path_, study, hash);
  Statement update(db_, path_,
                   "UPDATE runs SET status = ?, loss = ?, wall_seconds = ?, finished_at = ?, error = ?, "
                   "script_hash = COALESCE(NULLIF(?, ''), script_hash), scalelab_version = ? WHERE id = ?");
  update.bind(1, to_string(o.status)).bind(2, o.loss).bind(3, o.wall_seconds).bind(4, now_seconds())
      .bind(5, o.error).bind(6, o.script_hash);
  // The scalelab version of the attempt that finished the run.
  {
    Statement meta(db_, path_, "SELECT scalelab_version FROM studies WHERE name = ?");
    meta.bind(1, study);
    update.bind(7, meta.step() ? meta.text(0) : std::string());
  }
  update.bind(8, run);
  update.run();
  drop_results(db_, path_, run);
  write_values(db_, path_, run, "metric", o.metrics);
  Statement point(db_, path_,
                  "INSERT OR REPLACE INTO curves(run, step, tokens, train_loss, eval_loss, seconds, lr) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (const CurvePoint& p : o.curve) {
    point.bind(1, run).bind(2, p.step).bind(3, p.tokens).bind(4, p.train_loss).bind(5, p.eval_loss)
        .bind(6, p.seconds).bind(7, p.lr);
    point.run();
  }
  tx.commit();
  check_file();
}

void Store::ResetRun(const std::string& study, const std::string& hash) {
  Transaction tx(writer("reset a run"), path_);
  const int64_t run = run_id(db_, path_, study, hash);
  Statement reset(db_, path_,
                  "UPDATE runs SET status = 'planned', loss = NULL, wall_seconds = NULL, started_at = NULL, "
                  "finished_at = NULL, error = NULL, worker = NULL WHERE id = ?");
  reset.bind(1, run).run();
  drop_results(db_, path_, run);
  tx.commit();
  check_file();
}

namespace {
const char kRunColumns[] =
    "SELECT id, study, hash, ordinal, label, config, status, attempts, script_hash, scalelab_version, "
    "checkpoint, worker, error, created_at, started_at, finished_at, wall_seconds, params, "
    "non_embedding_params, tokens, unique_tokens, epochs, flops, loss FROM runs";

RunRecord read_run(const Statement& s) {
  RunRecord r;
  r.study = s.text(1);
  r.hash = s.text(2);
  r.ordinal = s.integer(3);
  r.label = s.text(4);
  r.config_json = s.text(5);
  r.status = parse_status(s.text(6));
  r.attempts = s.integer(7);
  r.script_hash = s.text(8);
  r.scalelab_version = s.text(9);
  r.checkpoint = s.text(10);
  r.worker = s.text(11);
  r.error = s.text(12);
  r.created_at = s.number(13);
  r.started_at = s.number(14);
  r.finished_at = s.number(15);
  r.wall_seconds = s.number(16);
  r.params = s.number(17);
  r.non_embedding_params = s.number(18);
  r.tokens = s.number(19);
  r.unique_tokens = s.number(20);
  r.epochs = s.number(21);
  r.flops = s.number(22);
  r.loss = s.number(23);
  return r;
}
}  // namespace

namespace {
// The runs that `s` (a SELECT of kRunColumns, bound) gives, each with its configuration and metric values.
std::vector<RunRecord> read_runs(sqlite3* db, const std::string& path, Statement& s) {
  std::vector<RunRecord> out;
  std::vector<int64_t> ids;
  while (s.step()) {
    out.push_back(read_run(s));
    ids.push_back(s.integer(0));
  }
  Statement values(db, path, "SELECT kind, key, number, text FROM run_values WHERE run = ? ORDER BY kind, key");
  for (size_t i = 0; i < out.size(); ++i) {
    values.bind(1, ids[i]);
    while (values.step()) {
      Value v = values.null(2) && !values.null(3) ? Value::Text(values.text(1), values.text(3))
                                                  : Value::Number(values.text(1), values.number(2));
      (values.text(0) == "config" ? out[i].config : out[i].metrics).push_back(std::move(v));
    }
    values.reset();
  }
  return out;
}
}  // namespace

std::vector<RunRecord> Store::Runs(const RunFilter& filter) const {
  if (!filter.status.empty()) parse_status(filter.status);
  std::string sql = std::string(kRunColumns) +
                    " WHERE (?1 = '' OR study = ?1) AND (?2 = '' OR status = ?2) ORDER BY study, ordinal, id";
  Statement s(db(), path_, sql.c_str());
  s.bind(1, filter.study).bind(2, filter.status);
  return read_runs(db_, path_, s);
}

// One run by its (study, hash) key, through the key's index: a study looks its runs up one at a
// time, and reading every run of the study for each (as this did) made a sweep of n runs cost n².
std::optional<RunRecord> Store::Run(const std::string& study, const std::string& hash) const {
  const std::string sql = std::string(kRunColumns) + " WHERE study = ?1 AND hash = ?2";
  Statement s(db(), path_, sql.c_str());
  s.bind(1, study).bind(2, hash);
  std::vector<RunRecord> found = read_runs(db_, path_, s);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

namespace {
// Stores written before scalelab recorded each point's optimizer step hold the point's position
// there (1, 2, 3, ...) for trained runs. Such a curve (`points`, in order of tokens) is read with
// each step derived from its tokens and the tokens of one step, which the run's configuration gives
// (batch sequences of model_ctx tokens, as a study's runs have). Any other curve holds the steps its
// backend recorded, and keeps them: deriving them again from the configuration gave wrong steps
// where batch·model_ctx is not the tokens of every step (a batch ramped up during the run, sequences
// shorter than the model's context), and two points at one step.
void read_position_steps(std::vector<CurvePoint>* points, double batch, double ctx) {
  if (!(batch >= 1 && ctx >= 1)) return;
  for (size_t i = 0; i < points->size(); ++i)
    if ((*points)[i].step != static_cast<int64_t>(i + 1) || std::isnan((*points)[i].tokens)) return;
  for (CurvePoint& p : *points) p.step = std::llround(p.tokens / (batch * ctx));
}
}  // namespace

namespace {
struct RunCurve {
  std::string study, hash;
  std::vector<CurvePoint> points;
};

// The curves of the runs that `where` (a WHERE clause over runs r, its parameters ?1, ?2, ... bound
// to `values`) selects, in the order the runs are listed (study, ordinal) and each in order of
// tokens: in two queries whatever the number of runs, where reading each run's curve apart (a run's
// configuration, then its points) took two a run.
std::vector<RunCurve> read_curves(sqlite3* db, const std::string& path, const std::string& where,
                                  const std::vector<std::string>& values) {
  std::map<int64_t, std::pair<double, double>> shape;  // run id -> its batch and model_ctx
  {
    Statement q(db, path,
                ("SELECT v.run, v.key, v.number FROM run_values v JOIN runs r ON r.id = v.run " + where +
                 " AND v.kind = 'config' AND v.key IN ('batch', 'model_ctx')")
                    .c_str());
    for (size_t i = 0; i < values.size(); ++i) q.bind(static_cast<int>(i + 1), values[i]);
    while (q.step()) {
      auto& [batch, ctx] = shape.try_emplace(q.integer(0), kMissing, kMissing).first->second;
      (q.text(1) == "batch" ? batch : ctx) = q.number(2);
    }
  }
  Statement s(db, path,
              ("SELECT r.id, r.study, r.hash, c.step, c.tokens, c.train_loss, c.eval_loss, c.seconds, c.lr FROM curves c "
               "JOIN runs r ON r.id = c.run " + where + " ORDER BY r.study, r.ordinal, r.id, c.tokens, c.step")
                  .c_str());
  for (size_t i = 0; i < values.size(); ++i) s.bind(static_cast<int>(i + 1), values[i]);
  std::vector<RunCurve> out;
  std::vector<int64_t> ids;
  while (s.step()) {
    if (ids.empty() || ids.back() != s.integer(0)) {
      ids.push_back(s.integer(0));
      out.push_back({s.text(1), s.text(2), {}});
    }
    CurvePoint p;
    p.step = s.integer(3);
    p.tokens = s.number(4);
    p.train_loss = s.number(5);
    p.eval_loss = s.number(6);
    p.seconds = s.number(7);
    p.lr = s.number(8);
    out.back().points.push_back(p);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const auto it = shape.find(ids[i]);
    if (it != shape.end()) read_position_steps(&out[i].points, it->second.first, it->second.second);
  }
  return out;
}
}  // namespace

std::vector<CurvePoint> Store::Curve(const std::string& study, const std::string& hash) const {
  std::vector<RunCurve> curves = read_curves(db(), path_, "WHERE r.study = ?1 AND r.hash = ?2", {study, hash});
  return curves.empty() ? std::vector<CurvePoint>{} : std::move(curves.front().points);
}

std::string Store::RunsCsv(const RunFilter& filter) const {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  run_table(Runs(filter), &columns, &rows);
  return to_csv(columns, rows);
}

std::string Store::RunsJson(const RunFilter& filter) const {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  run_table(Runs(filter), &columns, &rows);
  return to_json(columns, rows);
}

namespace {
void curve_table(const std::vector<RunCurve>& curves, std::vector<std::string>* columns, std::vector<Row>* rows) {
  // seconds and lr are columns only when some point has them (the trainer records neither).
  bool seconds = false, lr = false;
  for (const RunCurve& r : curves) {
    for (const CurvePoint& p : r.points) {
      Row row;
      row["study"] = text_cell(r.study);
      row["hash"] = text_cell(r.hash);
      row["step"] = number_cell(static_cast<double>(p.step));
      row["tokens"] = number_cell(p.tokens);
      row["train_loss"] = number_cell(p.train_loss);
      row["eval_loss"] = number_cell(p.eval_loss);
      row["seconds"] = number_cell(p.seconds);
      row["lr"] = number_cell(p.lr);
      rows->push_back(std::move(row));
      seconds = seconds || !std::isnan(p.seconds);
      lr = lr || !std::isnan(p.lr);
    }
  }
  *columns = {"study", "hash", "step", "tokens", "train_loss", "eval_loss"};
  if (seconds) columns->push_back("seconds");
  if (lr) columns->push_back("lr");
}
}  // namespace

namespace {
// The curves of the runs `filter` selects (as Runs selects them), read at once.
std::vector<RunCurve> filtered_curves(sqlite3* db, const std::string& path, const RunFilter& filter) {
  if (!filter.status.empty()) parse_status(filter.status);
  return read_curves(db, path, "WHERE (?1 = '' OR r.study = ?1) AND (?2 = '' OR r.status = ?2)",
                     {filter.study, filter.status});
}
}  // namespace

std::string Store::CurvesCsv(const RunFilter& filter) const {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  curve_table(filtered_curves(db(), path_, filter), &columns, &rows);
  return to_csv(columns, rows);
}

std::string Store::CurvesJson(const RunFilter& filter) const {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  curve_table(filtered_curves(db(), path_, filter), &columns, &rows);
  return to_json(columns, rows);
}

std::string Store::Summary() const {
  if (!db_) return str("Store(", path_, ": closed)");
  std::map<std::string, int64_t> counts;
  int64_t total = 0;
  {
    Statement s(db_, path_, "SELECT status, count(*) FROM runs GROUP BY status");
    while (s.step()) {
      counts[s.text(0)] = s.integer(1);
      total += s.integer(1);
    }
  }
  int64_t studies = 0;
  {
    Statement s(db_, path_, "SELECT count(*) FROM studies");
    if (s.step()) studies = s.integer(0);
  }
  std::string out = str("Store(", path_, ": schema ", schema_version(), ", ", studies,
                        studies == 1 ? " study, " : " studies, ", total, total == 1 ? " run" : " runs");
  std::string parts;
  for (const char* status : {"done", "running", "planned", "interrupted", "failed", "diverged"}) {
    auto it = counts.find(status);
    if (it != counts.end()) parts += str(parts.empty() ? "" : ", ", it->second, " ", status);
  }
  if (!parts.empty()) out += ": " + parts;
  return out + (options_.read_only ? ", read-only)" : ")");
}

namespace {
// Why `path` cannot be written, and the fix, after a failure with `error` (errno): its folder missing
// or not writable, or a folder in its place, rather than the system's bare words.
[[noreturn]] void cannot_write(const std::string& path, int error) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    fail("cannot write '", path, "': it is a folder; give the path of a file");
  if (::stat(folder.c_str(), &info) != 0)
    fail("cannot write '", path, "': its folder '", folder, "' does not exist; create it (mkdir -p '", folder,
         "') or give a path in a folder that exists");
  if (!S_ISDIR(info.st_mode)) fail("cannot write '", path, "': '", folder, "' is not a folder; give another path");
  if (::access(folder.c_str(), W_OK) != 0)
    fail("cannot write '", path, "': its folder '", folder, "' is not writable (", std::strerror(errno),
         "); give a path in a folder you can write");
  fail("cannot write '", path, "': ", std::strerror(error));
}
}  // namespace

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) cannot_write(path, errno);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      fail("cannot write '", path, "': ", std::strerror(errno));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    cannot_write(path, error);
  }
}

}  // namespace scalelab::store

#include "train/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "core/paths.h"
#include "core/units.h"
#include "train/bytes.h"

namespace scalelab::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The format's version ends the magic: raise it with any change of the layout, so that an older binary
// refuses the file as a newer scalelab's (read_checkpoint) rather than misreading its fields.
const char* const kCheckpointMagic = "scalelab-checkpoint-4";     // + the held-out source's state at the start
const char* const kCheckpointMagicV3 = "scalelab-checkpoint-3";   // + the thread count it was made on
const char* const kCheckpointMagicV2 = "scalelab-checkpoint-2";   // + the run's seconds so far
const char* const kCheckpointMagicV1 = "scalelab-checkpoint-1";
// The most evaluations, and the most checkpoints, a simulated run draws: its cost is bounded
// whatever the step count, eval_interval and checkpoint_interval.
constexpr int64_t kMaxDrawnEvaluations = 1000;
// The most passes one evaluation makes over a held-out source that cycles (given eval_tokens): more
// only repeats the same batches, at the cost of as many more forward passes.
constexpr int64_t kMaxEvalPasses = 16;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything the run's trajectory and its held-out losses depend on: a checkpoint only resumes the
// same run. The held-out measure (eval_batches of eval_B × eval_T tokens, and the rows it weighs
// where a whole split's last batch counts only its first: held_out_measure) is in it, so that the
// curve and the best loss compare losses measured alike; the evaluations' interval is not (it changes
// neither). The numbers are exact (as many digits as read back the same). A checkpoint of an earlier
// version holds the legacy fingerprint (six significant digits, no held-out measure), which still
// resumes; a run split into passes (`passes`) resumes only in the same passes, whatever wrote it.
std::string fingerprint(const TrainConfig& c, const std::string& backend, int64_t batch, int64_t T, int64_t steps,
                        const std::string& held_out, const std::string& passes) {
  const OptimizerOptions& o = c.optimizer;
  auto exact = [](double v) { return format_round_trip(v); };
  return str(c.model.Summary(), "; backend ", backend, "; batch ", batch, " x ", T, "; steps ", steps, "; lr ",
             exact(c.lr), " warmup ", exact(c.warmup), " min ", exact(c.min_lr_ratio), "; adamw ", exact(o.beta1), " ",
             exact(o.beta2), " ", exact(o.eps), " wd ", exact(o.weight_decay), " clip ", exact(o.clip), "; seed ",
             c.seed, "; held-out ", held_out, passes);
}
std::string held_out_measure(int64_t batches, int64_t B, int64_t T, int64_t rows) {
  return str(batches, " x ", B, " x ", T, rows != batches * B ? str(", ", rows, " rows") : std::string());
}
std::string legacy_fingerprint(const TrainConfig& c, const std::string& backend, int64_t batch, int64_t T,
                               int64_t steps) {
  const OptimizerOptions& o = c.optimizer;
  return str(c.model.Summary(), "; backend ", backend, "; batch ", batch, " x ", T, "; steps ", steps,
             "; lr ", c.lr, " warmup ", c.warmup, " min ", c.min_lr_ratio, "; adamw ", o.beta1, " ",
             o.beta2, " ", o.eps, " wd ", o.weight_decay, " clip ", o.clip, "; seed ", c.seed);
}

struct RunState {
  int64_t step = 0;
  double train_sum = 0;
  int64_t train_count = 0;
  double best = kNaN;
  std::vector<CurvePoint> curve;
  double wall_seconds = 0, train_seconds = 0;  // of the sessions before this one
  int64_t timed_steps = 0;                     // steps those train_seconds measured
  // The backend's rounding_threads() when the checkpoint was written (0: its numbers do not depend
  // on them); -1: not recorded (a checkpoint of an earlier version).
  int64_t threads = -1;
};

// Writes a checkpoint's bytes to path + ".tmp", flushes them to the disk, renames the file over
// `path` and flushes the folder's entry: a crash of the machine at any moment leaves the previous
// checkpoint or this one under `path`, never a short file (a rename whose data was still in the
// page cache could otherwise reach the disk first).
void write_durably(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("cannot write the checkpoint ", tmp, " (", std::strerror(errno), "): check that its folder exists and is writable");
  auto give_up = [&](const char* what) {
    const int error = errno;
    ::close(fd);
    std::remove(tmp.c_str());
    fail(what, " the checkpoint ", tmp, " failed (", std::strerror(error), "; disk full?)");
  };
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) give_up("writing");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) give_up("flushing");
  if (::close(fd) != 0) {
    const int error = errno;
    std::remove(tmp.c_str());
    fail("writing the checkpoint ", tmp, " failed (", std::strerror(error), "; disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot rename ", tmp, " to ", path, " to finish the checkpoint (", std::strerror(errno), ")");
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {  // best effort: some file systems cannot sync a folder
    ::fsync(dir);
    ::close(dir);
  }
}

// `data_state`: the training source's state() ("" without one); `held_out_state`: the held-out
// source's state() at the run's start, before any evaluation ("" where the run reads none).
void write_checkpoint(const std::string& path, const std::string& print, const RunState& s,
                      const std::string& data_state, const std::string& held_out_state, const Backend& backend) {
  ByteWriter w;
  w.string(kCheckpointMagic);
  w.string(print);
  w.i64(s.step);
  w.f64(s.train_sum);
  w.i64(s.train_count);
  w.f64(s.best);
  w.u64(s.curve.size());
  for (const CurvePoint& p : s.curve) {
    w.i64(p.tokens);
    w.f64(p.train_loss);
    w.f64(p.eval_loss);
  }
  w.string(data_state);
  w.string(backend.save());
  w.f64(s.wall_seconds);
  w.f64(s.train_seconds);
  w.i64(s.timed_steps);
  w.i64(backend.rounding_threads());
  w.string(held_out_state);
  write_durably(path, w.bytes());
}

// The "; "-separated parts of a run's fingerprint `a` that `b` lacks, joined again ("" when none).
std::string parts_not_in(const std::string& a, const std::string& b) {
  auto split = [](const std::string& text) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      const size_t end = text.find("; ", start);
      parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) return parts;
      start = end + 2;
    }
  };
  const std::vector<std::string> theirs = split(b);
  std::string out;
  for (const std::string& part : split(a))
    if (std::find(theirs.begin(), theirs.end(), part) == theirs.end()) out += (out.empty() ? "" : "; ") + part;
  return out;
}

// Where the only part of a run's fingerprint that differs from a checkpoint's is its passes ("passes of
// M and E rows", or none: whole batches): what it means and what to give to resume the checkpoint; else "".
std::string passes_fix(const std::string& theirs, const std::string& ours) {
  auto passes = [](const std::string& part, long long* rows) {
    long long eval_rows = 0;
    int used = 0;
    return std::sscanf(part.c_str(), "passes of %lld and %lld rows%n", rows, &eval_rows, &used) == 2 &&
           part.size() == static_cast<size_t>(used);
  };
  long long theirs_rows = 0, ours_rows = 0;
  const bool theirs_passes = passes(theirs, &theirs_rows), ours_passes = passes(ours, &ours_rows);
  const std::string what = " (the rows of each forward and backward pass, which round the sums otherwise)";
  if (theirs.empty() && ours_passes)
    return str(what, ": it was made in whole batches; give micro_batch = the sampler's batch to resume it, where "
               "this machine's memory holds them");
  if (theirs_passes && (ours.empty() || ours_passes)) return str(what, ": give micro_batch = ", theirs_rows, " to resume it");
  return "";
}

// Where the only part of a run's fingerprint that differs from a checkpoint's is its held-out measure
// ("held-out K x B x T[, R rows]", both sides): what it means and what to give to resume the
// checkpoint, to go after the two parts in the refusal; else "".
std::string held_out_fix(const std::string& theirs, const std::string& ours) {
  struct Measure {
    long long batches = 0, B = 0, T = 0, rows = 0;
  };
  auto parse = [](const std::string& part, Measure& m) {
    if (part.find("; ") != std::string::npos) return false;
    int used = 0;
    if (std::sscanf(part.c_str(), "held-out %lld x %lld x %lld%n", &m.batches, &m.B, &m.T, &used) != 3) return false;
    if (part.size() == static_cast<size_t>(used)) return true;
    int more = 0;
    return std::sscanf(part.c_str() + used, ", %lld rows%n", &m.rows, &more) == 1 &&
           part.size() == static_cast<size_t>(used + more);
  };
  Measure a, b;
  if (!parse(theirs, a) || !parse(ours, b)) return "";
  const std::string what = " (the held-out measure: each evaluation's batches x rows x tokens, and the rows it "
                           "weighs of a split read whole)";
  if (a.B != b.B || a.T != b.T)
    return str(what, ": its held-out batches were of ", a.B, " × ", a.T, " tokens, this run's are of ", b.B, " × ", b.T,
               "; give eval_data in batches of ", a.B, " sequences of ", a.T, " tokens to resume it");
  if (a.rows == 0)
    return str(what, ": give eval_tokens = ", a.batches * a.B * a.T, " (", a.batches, a.batches == 1 ? " batch" : " batches",
               ") to resume it");
  return str(what, ": it read a whole held-out split of ", a.rows, " sequences of ", a.T,
             " tokens; resume it on that held-out data, with the eval_tokens it was made with");
}

// Reads and checks every field before changing anything the caller holds: a truncated or corrupt
// checkpoint throws with the backend's state as initialised and the sampler where it was.
// `prints`: the fingerprints of the run that a checkpoint may hold, this version's first (the others:
// the same run as earlier versions described it); *which is set to the one it holds (prints.size():
// `legacy_print`, which records no held-out measure).
// `held_out_state`: this run's held-out source's state() at its start ("" where it reads none).
// `eval`: the run's held-out source (nullptr where it reads none). *note is set to what the resume
// could not check ("" where it checked all): a checkpoint whose sources' states record no split.
bool read_checkpoint(const std::string& path, const std::vector<std::string>& prints, const std::string& legacy_print,
                     const std::string& held_out_state, RunState& s, data::BatchSource* data, data::BatchSource* eval,
                     Backend& backend, size_t* which, std::string* note) {
  const std::string& print = prints.front();
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  // What to do about a checkpoint that cannot be resumed, in every such error.
  const std::string fix = "; delete it or pass resume = false to start over (the run writes a new checkpoint "
                          "there), or give another checkpoint path";
  // Every version's magic starts the same way: anything else is some other file, which resume = false
  // would write over.
  ByteWriter prefix;
  prefix.string(kCheckpointMagic);
  const size_t family = 8 + std::strlen("scalelab-checkpoint-");
  if (bytes.size() < family && prefix.bytes().compare(0, bytes.size(), bytes) == 0)
    fail("checkpoint ", path, " is truncated or corrupted", fix);
  // (The name after the magic's length, which a version of two digits makes one longer: a newer
  // scalelab's checkpoint read as "some other file".)
  if (bytes.size() < family || bytes.compare(8, family - 8, prefix.bytes(), 8, family - 8) != 0)
    fail("checkpoint = \"", path, "\" is not a scalelab checkpoint but some other file; give another checkpoint "
         "path, or delete that file if you do not need it (resume = false would write over it)");
  ByteReader r(bytes, "checkpoint " + path, fix);
  const std::string magic = r.string();
  // The format's version, read before anything else: a later one (a newer scalelab's, whose fields this
  // binary cannot read) is said as such, not as other data or another run.
  const std::string family_name = "scalelab-checkpoint-";
  const std::string ours = kCheckpointMagic;
  if (magic.compare(0, family_name.size(), family_name) == 0 && magic.size() > family_name.size() &&
      magic.size() <= family_name.size() + 9 &&
      magic.find_first_not_of("0123456789", family_name.size()) == std::string::npos) {
    const long long version = std::stoll(magic.substr(family_name.size()));
    const long long known = std::stoll(ours.substr(family_name.size()));
    if (version > known)
      fail("checkpoint ", path, " was written by a newer scalelab, format v", version, "; this binary reads up to v",
           known, ": resume it with that scalelab (or a newer one), give another checkpoint path, or pass resume = "
           "false to start over (the run then writes over it)");
  }
  if (magic != kCheckpointMagic && magic != kCheckpointMagicV3 && magic != kCheckpointMagicV2 &&
      magic != kCheckpointMagicV1)
    fail("checkpoint ", path, " was written by another version of scalelab (format '", magic.substr(0, 40),
         "', this one reads '", kCheckpointMagic, "', '", kCheckpointMagicV3, "', '", kCheckpointMagicV2, "' and '",
         kCheckpointMagicV1, "'); pass resume = false to start over, give another checkpoint path, or resume it with "
         "that version");
  const std::string stored = r.string();
  const size_t match = static_cast<size_t>(std::find(prints.begin(), prints.end(), stored) - prints.begin());
  if (match == prints.size() && stored != legacy_print) {
    // The parts that differ, not the two whole descriptions (some 300 characters each, alike but
    // for one number that the user had to find). A legacy checkpoint is compared in its own terms.
    const bool legacy = stored.find("; held-out ") == std::string::npos;
    const std::string ours = legacy ? legacy_print : print;
    const std::string theirs_differ = parts_not_in(stored, ours), ours_differ = parts_not_in(ours, stored);
    // A part one side has and the other has not in any form (passes of fewer rows) is said as such:
    // "it was made with nothing in their place" read as if the checkpoint were empty.
    const std::string differ = theirs_differ.empty() ? str("this run has ", ours_differ, ", which it was made without")
                               : ours_differ.empty() ? str("it was made with ", theirs_differ, ", which this run has not")
                                                     : str("it was made with ", theirs_differ, ", this run has ", ours_differ);
    fail("checkpoint ", path, " belongs to another run: ", differ, held_out_fix(theirs_differ, ours_differ),
         passes_fix(theirs_differ, ours_differ),
         "; delete it, give another checkpoint path, or pass resume = false to start over");
  }
  RunState read;
  read.step = r.i64();
  read.train_sum = r.f64();
  read.train_count = r.i64();
  read.best = r.f64();
  const uint64_t points = r.u64();
  constexpr uint64_t kPointBytes = 3 * 8;
  if (points > r.remaining() / kPointBytes) fail("checkpoint ", path, " is truncated or corrupted", fix);
  read.curve.resize(static_cast<size_t>(points));
  for (CurvePoint& p : read.curve) {
    p.tokens = r.i64();
    p.train_loss = r.f64();
    p.eval_loss = r.f64();
  }
  const std::string sampler = r.string();
  const std::string parameters = r.string();
  if (magic != kCheckpointMagicV1) {
    read.wall_seconds = r.f64();
    read.train_seconds = r.f64();
    read.timed_steps = r.i64();
  }
  if (magic == kCheckpointMagic || magic == kCheckpointMagicV3) read.threads = r.i64();
  const std::string made_held_out = magic == kCheckpointMagic ? r.string() : std::string();
  if (!r.done() || read.step < 0 || read.train_count < 0 || read.timed_steps < 0 || read.threads < -1)
    fail("checkpoint ", path, " is truncated or corrupted", fix);
  // Its curve and best loss were measured on its held-out source: another one of the same shape (its
  // measure the same) resumed without a word, the curve then of two held-out sets and the best loss
  // perhaps of the other. Where both sides read one, it must be the same, from the same place.
  // Another corpus gives other held-out data too: that the training data is another is said first
  // (the fix differs), trying the checkpoint's position on it and putting the source back.
  // Where the source's state says what data saved it (data::OtherDataError), the refusal says what
  // the checkpoint was trained on, what differs and what to give: it said "cannot restore this
  // repetition-sampler from a state saved by a repetition-sampler with another corpus or other options
  // (fingerprint 3b2a565d5c946251, expected 868968eec4e8c75d)", whatever differed.
  const std::string start_over = str("to start over on this data, delete the checkpoint ", path,
                                     " or pass resume = false (the checkpoint is left as it is until then)");
  auto refuse_other_data = [&](const Error& e) {
    if (const auto* other = dynamic_cast<const data::OtherDataError*>(&e))
      fail("checkpoint ", path, " was made on other data than this run's: it was trained on ", other->made_on,
           ", and this run's data ", other->differs, ". To resume it, ", other->resume_with, "; ", start_over);
    fail("checkpoint ", path, " was made on other data than this run's: ", e.what(),
         ". Pass resume = false to start over on this data, give another checkpoint path, or resume with the "
         "data the checkpoint was made with");
  };
  // A held-out state saved before states recorded the split (" split=<hex>", last) is compared without
  // it, and the source says whether its split is this one. What a state says of its data (" about=",
  // after the split) is no part of it: the same data says it alike, and earlier states do not say it.
  auto without_about = [](const std::string& state) { return state.substr(0, state.find(" about=")); };
  const size_t split_at = held_out_state.find(" split=");
  const bool held_out_unsplit = made_held_out.find(" split=") == std::string::npos && split_at != std::string::npos;
  const bool other_held_out =
      !made_held_out.empty() && !held_out_state.empty() &&
      without_about(made_held_out) !=
          (held_out_unsplit ? held_out_state.substr(0, split_at) : without_about(held_out_state));
  if (other_held_out && data) {
    const std::string now = data->state();
    try {
      data->restore(sampler);
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      data->restore(now);
      refuse_other_data(e);
    }
    data->restore(now);
  }
  // What the held-out data was and what differs, where its state says (a source of this runtime's: a
  // source written in Lua is not handed another's state).
  if (other_held_out && eval && made_held_out.find(" about=") != std::string::npos) {
    try {
      eval->restore(made_held_out);
    } catch (const Interrupted&) {
      throw;
    } catch (const data::OtherDataError& e) {
      fail("checkpoint ", path, " was made with other held-out data than this run's: its evaluations read ", e.made_on,
           ", and this run's held-out data (eval_data, or the data's own held_out()) ", e.differs,
           ": its curve and best loss were measured on other held-out tokens, which this run's losses would not compare "
           "with. To resume it, ", e.resume_with, "; ", start_over);
    } catch (const Error&) {
    }
    eval->restore(held_out_state);
  }
  if (other_held_out)
    fail("checkpoint ", path, " was made with other held-out data than this run's (eval_data, or the data's own "
         "held_out()): its curve and best loss were measured on other held-out tokens, which this run's losses "
         "would not compare with; resume it with the held-out data it was made with, pass resume = false to start "
         "over, or give another checkpoint path");
  try {
    backend.load(parameters);
  } catch (const Interrupted&) {
    throw;
  } catch (const Error& e) {
    fail("checkpoint ", path, ": ", e.what(), fix);
  }
  std::string held_out_note;
  if (eval && !made_held_out.empty() && held_out_unsplit) {
    eval->restore(made_held_out);  // the same state but its split: parsed and checked as ours is
    held_out_note = eval->restore_note();
    eval->restore(held_out_state);
  }
  if (data) {  // last: nothing after it can fail
    try {
      data->restore(sampler);
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      refuse_other_data(e);
    }
  }
  const std::string data_note = data ? data->restore_note() : std::string();
  // One note for a split the training and held-out sources share (one corpus, one validation).
  std::string said = data_note;
  if (!held_out_note.empty() && held_out_note != data_note) said += (said.empty() ? "" : "; ") + held_out_note;
  *note = said.empty() ? said : str("checkpoint ", path, ": ", said);
  s = std::move(read);
  *which = match;
  return true;
}

// Before any work: the checkpoint's folder exists (made when missing, as a results store's and
// corpus:save's are) and can be written, so that a run never trains to its end and then fails to
// save. `path` itself must not be a folder.
void prepare_checkpoint_folder(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  refuse_unexpanded_home("train:", "checkpoint", path);
  if (!path.empty() && path.back() == '/')  // a folder's name, whether or not it exists yet
    fail("train: checkpoint = \"", path, "\" names a folder; give the path of a file in it (checkpoint = \"", path,
         "run.ckpt\")");
  if (fs::is_directory(path, error))
    fail("train: checkpoint = \"", path, "\" is a folder; give the path of a file in it (checkpoint = \"",
         (fs::path(path) / "run.ckpt").string(), "\")");
  fs::path folder = fs::path(path).parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::exists(folder, error)) {
    fs::create_directories(folder, error);
    if (error)
      fail("train: cannot create the folder '", folder.string(), "' for checkpoint = \"", path, "\": ",
           error.message(), "; give a checkpoint path in a folder you can write");
  } else if (!fs::is_directory(folder, error)) {
    fail("train: checkpoint = \"", path, "\": '", folder.string(),
         "' is a file, not a folder; give a checkpoint path in a folder you can write");
  }
  if (::access(folder.c_str(), W_OK) != 0)
    fail("train: checkpoint = \"", path, "\" cannot be written: its folder '", folder.string(), "' is not writable (",
         std::strerror(errno), "); give a checkpoint path in a folder you can write");
  // access() says yes to root whatever the folder: a read-only file system, an immutable folder. A
  // file made there (the one each checkpoint is first written to) says what a write will meet.
  const std::string probe = path + ".tmp";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail("train: checkpoint = \"", path, "\" cannot be written: a file cannot be made in its folder '",
         folder.string(), "' (", std::strerror(errno), "); give a checkpoint path in a folder you can write");
  ::close(fd);
  std::remove(probe.c_str());
}

// The step after `step` that is a multiple of `every`, or `last` when that comes first (no overflow
// whatever the numbers).
int64_t next_multiple(int64_t step, int64_t every, int64_t last) {
  const int64_t gap = every - step % every;
  return gap >= last - step ? last : step + gap;
}

// ceil(a / b) for a >= 0, b >= 1, without overflow.
int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

// `tokens` in whole steps, rounded to nearest (at least one), without overflow.
int64_t interval_steps(int64_t tokens, int64_t tokens_per_step) {
  const int64_t steps = tokens / tokens_per_step + (tokens % tokens_per_step >= tokens_per_step - tokens_per_step / 2);
  return std::max<int64_t>(1, steps);
}

}  // namespace

double cpu_backend_bytes(const model::GptConfig& m, int64_t rows, double* activations) {
  const double L = double(m.n_layer), C = double(m.d_model), F = double(m.ff()), V = double(m.vocab),
               T = double(m.ctx), H = double(m.n_head), B = double(rows), N = B * T;
  const double acts = N * C * 2 + L * N * (6 * C + 4 + 2 * F) + L * N * 3 * C + L * B * H * T * T + N * (V + 3) +
                      N * (5 * C + F);
  *activations = 4 * acts;
  return 16 * double(m.params()) + 4 * acts;
}

MicroBatches plan_micro_batches(const model::GptConfig& m, int64_t rows, int64_t eval_rows, int64_t micro_batch,
                                double available) {
  auto fits = [&](int64_t r) {
    double activations = 0;
    return !(available > 0) || cpu_backend_bytes(m, r, &activations) <= available;
  };
  // The largest divisor of n that is at most `limit` and fits beside `beside` rows.
  auto largest_divisor = [&](int64_t n, int64_t limit, int64_t beside) -> int64_t {
    for (int64_t d = std::min(n, limit); d >= 1; --d)
      if (n % d == 0 && fits(std::max(d, beside))) return d;
    return 0;
  };
  MicroBatches out;
  if (micro_batch > 0) {
    if (rows % micro_batch != 0)
      fail("train: micro_batch = ", micro_batch, " rows must divide the sampler's batch of ", rows,
           " rows (each of its batches is split into micro-batches of that many rows)");
    out.train = micro_batch;
    // Evaluations go in passes of at most as many rows.
    out.eval = largest_divisor(eval_rows, micro_batch, 0);
  } else if (fits(std::max(rows, eval_rows))) {
    out.train = rows;
    out.eval = eval_rows;
  } else {
    out.train = largest_divisor(rows, rows, 0);
    out.eval = out.train > 0 ? largest_divisor(eval_rows, eval_rows, out.train) : 0;
    out.split_for_memory = out.train > 0 && out.eval > 0 && out.train < rows;
  }
  if (out.train == 0 || out.eval == 0 || !fits(std::max(out.train, out.eval))) {
    // Not even the rows given (or one row) fit.
    const int64_t least = micro_batch > 0 ? std::max(micro_batch, out.eval) : 1;
    double activations = 0;
    const double need = cpu_backend_bytes(m, least, &activations);
    fail("train: the cpu backend needs at least ", format_bytes(need), " of memory for this run (",
         format_count(static_cast<double>(m.params())),
         " parameters × 16 bytes for the weights, gradients and AdamW moments, plus ", format_bytes(activations),
         " of activations for ", least, least == 1 ? " row" : " rows", " of ", m.ctx, " tokens), but ",
         format_bytes(available), " are available; give ",
         micro_batch > 0 && fits(1) ? "a smaller micro_batch (or leave it out to have the rows chosen to fit), " : "",
         "a smaller model (model = model.shape_for{ params = ... }), or backend = \"simulated\" to draw the "
         "losses from a law");
  }
  return out;
}

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::Done: return "done";
    case RunStatus::Diverged: return "diverged";
    case RunStatus::Interrupted: return "interrupted";
  }
  return "?";
}

// Above these an optimizer setting is legal but extreme: the run's note says so (see train()).
constexpr double kExtremeLearningRate = 0.1;
constexpr double kExtremeEps = 1e-3;

void TrainConfig::Validate() const {
  model::GptConfig m = model;
  m.Validate();
  if (tokens < 0)
    fail("train: tokens (training tokens D) must be >= 1 (got ", tokens, "); or give steps instead");
  if (steps < 0) fail("train: steps (optimizer steps) must be >= 1 (got ", steps, "); or give tokens instead");
  if ((tokens > 0) == (steps > 0))
    fail("train: give exactly one of tokens (training tokens D) and steps (optimizer steps); got tokens = ",
         tokens, ", steps = ", steps);
  if (batch < 0) fail("train: batch must be >= 1 rows per optimizer step (got ", batch, "; 0: the sampler's batch)");
  if (micro_batch < 0)
    fail("train: micro_batch must be >= 1 rows per forward and backward pass (got ", micro_batch,
         "; 0: the sampler's batch, split to fit memory)");
  if (seq_len < 0) fail("train: seq_len must be >= 1 tokens per row (got ", seq_len, "; 0: the sampler's)");
  if (resolve_backend(backend) == "simulated") law.Validate(m.vocab);
  if (!data && backend != "simulated")
    fail("train: data is missing: give a sampler (data = ...); only backend = \"simulated\" runs without data");
  if (data) {
    if (data->vocab() > m.vocab)
      fail("train: the data's vocabulary (", data->vocab(), ") is larger than the model's (", m.vocab,
           "); use model.gpt{ vocab = ", data->vocab(), ", ... }");
    if (data->seq_len() > m.ctx)
      fail("train: the data's rows have ", data->seq_len(), " tokens but the model's context is ", m.ctx,
           "; use a sampler with seq_len <= ", m.ctx, " or a model with ctx >= ", data->seq_len());
    if (batch > 0 && batch % data->batch() != 0)
      fail("train: batch (", batch, " rows) must be a multiple of the sampler's batch (", data->batch(),
           " rows); gradients are accumulated over batch / ", data->batch(), " of its batches");
    if (micro_batch > 0 && data->batch() % micro_batch != 0)
      fail("train: micro_batch = ", micro_batch, " rows must divide the sampler's batch of ", data->batch(),
           " rows (each of its batches is split into micro-batches of that many rows)");
    if (seq_len > 0 && seq_len != data->seq_len())
      fail("train: seq_len (", seq_len, ") differs from the sampler's (", data->seq_len(),
           "); leave seq_len out to use the sampler's");
  } else {
    if (batch <= 0) fail("train: without data, give batch (rows per step)");
    if (seq_len <= 0 || seq_len > m.ctx)
      fail("train: without data, give seq_len between 1 and the model's ctx (", m.ctx, ")");
  }
  // Held-out ids of another vocabulary or tokenizer than the training data's (a byte corpus evaluated
  // on GPT-2 tokens) gave a held-out loss that meant nothing, or ids beyond the data's vocabulary.
  if (data && eval_data) {
    const data::BatchSource::Vocabulary trained = data->vocabulary(), held = eval_data->vocabulary();
    const bool other_vocab = data->vocab() != eval_data->vocab();
    // Two known identities decide alone: GPT-2's ids under its vocab padded (vocab = 50304, a
    // model's size) are GPT-2's, and were refused as another vocabulary's. Where either cannot tell,
    // the vocab does.
    const bool known = !trained.identity.empty() && !held.identity.empty();
    if (known ? trained.identity != held.identity : other_vocab) {
      auto described = [](const data::BatchSource& s, const data::BatchSource::Vocabulary& v) {
        return str(v.data.empty() ? std::string() : v.data + " (", "vocab ", s.vocab(),
                   v.tokenizer.empty() ? std::string() : ", tokenizer " + v.tokenizer, v.data.empty() ? "" : ")");
      };
      fail("train: the held-out data's token ids are not the training data's: data is ", described(*data, trained),
           " and eval_data is ", described(*eval_data, held), ", so the held-out loss would score ",
           other_vocab ? "ids of another vocabulary" : "ids of another tokenizer",
           " and mean nothing; evaluate on held-out data of the training data's tokenizer and vocabulary: ",
           eval_data_default.empty()
               ? std::string("give eval_data = a held-out source")
               : str("leave eval_data out (the training data's own held-out split, ", eval_data_default,
                     "), or give a held-out source"),
           " over a corpus made with the same tokenizer", other_vocab ? " and vocab" : "");
    }
  }
  if (eval_data) {
    if (eval_data->vocab() > m.vocab)
      fail("train: the held-out data's vocabulary (", eval_data->vocab(), ") is larger than the model's (",
           m.vocab, ")");
    if (eval_data->seq_len() > m.ctx)
      fail("train: the held-out rows have ", eval_data->seq_len(), " tokens, more than the model's ctx (",
           m.ctx, ")");
  }
  if (!(lr > 0) || !std::isfinite(lr))
    fail("train: lr must be a positive number (got ", format_number(lr, 6), "); give the peak learning rate, e.g. lr = 1e-3 (Pythia's "
         "at 14M-70M parameters)");
  if (!(warmup >= 0 && warmup < 1)) {
    // A warmup of 1 or more is most likely a count of steps (nanoGPT's warmup_iters; a study's
    // hyper.warmup takes one): name the fraction that gives it, where the run's steps are known here.
    const int64_t rows = batch > 0 ? batch : data ? data->batch() : 0;
    const int64_t T = data ? data->seq_len() : seq_len;
    const int64_t run_steps = steps > 0 ? steps : rows > 0 && T > 0 && tokens > 0 ? tokens / (rows * T) : 0;
    std::string fix;
    if (warmup >= 1 && warmup == std::floor(warmup) && run_steps > 0 && warmup < static_cast<double>(run_steps))
      fix = str("; for ", format_number(warmup, 10), " warmup steps of this run's ", run_steps, " give warmup = ",
                format_number(warmup / static_cast<double>(run_steps), 6));
    else if (warmup >= 1)
      fix = "; for a number of warmup steps give it divided by the run's steps";
    fail("train: warmup is a fraction of the run's steps in [0, 1) (got ", format_number(warmup, 6), ")", fix);
  }
  if (!(min_lr_ratio >= 0 && min_lr_ratio <= 1))
    fail("train: min_lr_ratio must be in [0, 1] (got ", format_number(min_lr_ratio, 6), ")");
  const OptimizerOptions& o = optimizer;
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    fail("train: betas must be in [0, 1) (got ", format_number(o.beta1, 6), ", ", format_number(o.beta2, 6), ")");
  // AdamW divides each step by √v̂ + eps: eps = 0 divides by zero where a gradient is 0, and an
  // infinite eps makes every step 0 (nothing would train).
  if (!(o.eps > 0) || !std::isfinite(o.eps))
    fail("train: eps must be a positive finite number (got ", format_number(o.eps, 6), "); AdamW adds it to √v̂ before dividing: "
         "give eps = 1e-8 (the usual) or leave it out");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    fail("train: weight_decay must be a finite number >= 0 (got ", format_number(o.weight_decay, 6), "); e.g. weight_decay = 0.1 "
         "(Pythia's), or 0 for none");
  // The decoupled decay scales each decayed weight by 1 − lr·weight_decay at every step: at 1 or more
  // it zeroes (or flips) every weight matrix at the peak learning rate.
  if (lr * o.weight_decay >= 1)
    fail("train: lr × weight_decay = ", format_number(lr, 6), " × ", format_number(o.weight_decay, 6), " = ",
         format_number(lr * o.weight_decay, 6),
         " is 1 or more: AdamW's decay multiplies every weight matrix by 1 − lr·weight_decay at each step, which "
         "would zero or flip it; lower weight_decay (0.1 is usual) or lr");
  if (!(o.clip >= 0)) fail("train: clip must be >= 0 (0 disables clipping; got ", format_number(o.clip, 6), ")");
  if (eval_interval < 0 || eval_tokens < 0 || checkpoint_interval < 0)
    fail("train: eval_interval, eval_tokens and checkpoint_interval must be >= 0");
  // Asked-for evaluations with nothing to evaluate on would be dropped without a word (a simulated
  // run draws its held-out losses without data).
  if (eval_tokens > 0 && !eval_data && resolve_backend(backend) != "simulated")
    fail("train: eval_tokens = ", eval_tokens, " sets the held-out tokens of each evaluation, but this run has no "
         "held-out data to evaluate on; give eval_data = a held-out source (sampler:held_out(), data.held_out{...}), "
         "or leave eval_tokens out");
  // Likewise checkpoints asked for with no file to write them to: checkpoint_interval = 1e6 without a
  // checkpoint trained to the end writing nothing, and a run stopped (Ctrl-C, a source's error) lost
  // what the user took to be saved.
  if (checkpoint_interval > 0 && checkpoint.empty())
    fail("train: checkpoint_interval = ", checkpoint_interval, " sets the tokens between checkpoints, but this run "
         "has no checkpoint to write; give checkpoint = \"run.ckpt\" (the file to write them to), or leave "
         "checkpoint_interval out");
  if (threads < 0) fail("train: threads must be >= 0 (0: all cores; got ", threads, ")");
}

double learning_rate(const TrainConfig& c, int64_t step, int64_t steps) {
  // w warmup steps climb lr/(w+1), 2·lr/(w+1), ..., w·lr/(w+1); the peak lr is step w's, the first
  // of the decay, which ends at min_lr_ratio·lr on the last step. The warmup leaves at least that
  // one step of decay after the peak (w <= steps − 2), so a warmup that would cover the run still
  // ends it at the floor; a run of one step takes it at the peak.
  const int64_t asked = static_cast<int64_t>(std::llround(c.warmup * static_cast<double>(steps)));
  const int64_t warmup = std::min(asked, std::max<int64_t>(0, steps - 2));
  if (step < warmup) return c.lr * static_cast<double>(step + 1) / static_cast<double>(warmup + 1);
  const double span = static_cast<double>(std::max<int64_t>(1, steps - 1 - warmup));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  const double min_lr = c.min_lr_ratio * c.lr;
  return min_lr + (c.lr - min_lr) * 0.5 * (1.0 + std::cos(3.141592653589793 * progress));
}

RunResult train(const TrainConfig& config) {
  config.Validate();
  const auto start = Clock::now();
  model::GptConfig shape = config.model;
  shape.Validate();

  data::BatchSource* data = config.data;
  data::BatchSource* eval = config.eval_data;
  // The source's rows per batch; a step takes `accumulation` of its batches, each fed to the backend
  // in `splits` micro-batches (plan_micro_batches, below).
  const int64_t source_rows = data ? data->batch() : config.batch;
  const int64_t T = data ? data->seq_len() : config.seq_len;
  const int64_t batch = config.batch > 0 ? config.batch : source_rows;
  const int64_t accumulation = batch / source_rows;
  // Every count of tokens below (steps × batch × seq_len, positions in the run) must fit in int64.
  constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();
  if (batch > kMaxCount / T)
    fail("train: batch × seq_len = ", batch, " × ", T, " = ",
         format_number(static_cast<double>(batch) * static_cast<double>(T), 3),
         " tokens per step is beyond the largest count scalelab handles (", kMaxCount, " tokens); give a smaller batch");
  const int64_t tokens_per_step = batch * T;
  // Whole steps only, rounding down as the data module's samplers do (they plan
  // floor(tokens / (batch·seq_len)) batches), so tokens = D never asks a sampler for more than D.
  if (config.steps == 0 && config.tokens < tokens_per_step)
    fail("train: tokens = ", config.tokens, " is less than one optimizer step of batch × seq_len = ", batch, " × ",
         T, " = ", tokens_per_step, " tokens (tokens are rounded down to whole steps); give tokens >= ",
         tokens_per_step, " or a smaller batch");
  const int64_t steps = config.steps > 0 ? config.steps : config.tokens / tokens_per_step;
  if (steps > kMaxCount / tokens_per_step)
    fail("train: steps = ", steps, " of batch × seq_len = ", batch, " × ", T, " = ", tokens_per_step, " tokens is ",
         format_number(static_cast<double>(steps) * static_cast<double>(tokens_per_step), 3),
         " tokens, beyond the largest count scalelab handles (", kMaxCount, " tokens); give at most steps = ",
         kMaxCount / tokens_per_step, " (or tokens = ", kMaxCount / tokens_per_step * tokens_per_step, ")");

  std::unique_ptr<Backend> backend = make_backend(config.backend, config.threads, config.law);
  // A backend that draws its losses skips whole stretches of steps and never reads the data.
  const bool draws = backend->draws_losses();
  const bool feed = data && backend->needs_tokens() && !draws;
  const int64_t eval_B = eval ? eval->batch() : source_rows;
  const int64_t eval_T = eval ? eval->seq_len() : T;
  const bool can_eval = eval || !backend->needs_tokens();
  const bool read_eval = eval && !draws;
  constexpr int64_t kDefaultEvalBatches = 16;
  // The distinct rows one pass over a held-out source that cycles gives (-1: it does not cycle).
  const int64_t eval_pass = read_eval ? eval->batches_per_pass() : -1;
  const int64_t eval_pass_rows =
      !read_eval ? -1
      : eval->rows_per_pass() > 0 ? eval->rows_per_pass()
      : eval_pass > 0 && eval_pass <= kMaxCount / eval_B ? eval_pass * eval_B
                                                         : -1;
  // The batches an evaluation asks for: eval_tokens in whole batches, or the default 16.
  const int64_t asked_batches =
      config.eval_tokens > 0 ? std::max<int64_t>(1, ceil_div(config.eval_tokens, eval_B * eval_T)) : kDefaultEvalBatches;
  // An evaluation that asks for more rows than a held-out source that cycles holds reads its whole
  // split once, every sequence weighted equally: going round it would count the sequences at the
  // start of a pass more often than the others (the default 16 batches, or an eval_tokens of up to
  // 16 passes, over a small split).
  const bool eval_whole_split = eval_pass_rows > 0 && asked_batches > eval_pass_rows / eval_B;
  int64_t eval_batches = eval_whole_split ? ceil_div(eval_pass_rows, eval_B) : asked_batches;
  // The rows an evaluation weighs: a whole split's last batch may count only its first rows.
  int64_t eval_rows = eval_whole_split ? eval_pass_rows : eval_batches * eval_B;
  // The default: at most 20 evaluations after the initial one, as evenly spaced as whole steps allow
  // (steps / 20 rounded down evaluated a run of 39 steps at every step: 39 evaluations, each of 16
  // batches, several times the cost of its training).
  int64_t eval_every = config.eval_interval > 0 ? interval_steps(config.eval_interval, tokens_per_step)
                                                : std::max<int64_t>(1, ceil_div(steps, 20));
  int64_t checkpoint_every =
      config.checkpoint_interval > 0 ? interval_steps(config.checkpoint_interval, tokens_per_step) : 0;
  // A backend that draws its losses ends a stretch at every evaluation and every checkpoint: at
  // most kMaxDrawnEvaluations of each, so the run's cost stays bounded whatever the step count.
  if (draws) {
    const int64_t widest = ceil_div(steps, kMaxDrawnEvaluations);
    eval_every = std::max(eval_every, widest);
    if (checkpoint_every > 0) checkpoint_every = std::max(checkpoint_every, widest);
  }

  // Before any work: an evaluation must fit what the held-out data gives (a huge eval_tokens would
  // otherwise fail only at the first evaluation, or go round the same held-out tokens for hours).
  if (read_eval) {
    const int64_t eval_batch_tokens = eval_B * eval_T;
    const std::string asked =
        config.eval_tokens > 0
            ? str("eval_tokens = ", config.eval_tokens, " asks each evaluation for ", format_counted(asked_batches, "batch", "batches"), " of ",
                  eval_B, " × ", eval_T, " held-out tokens")
            : str("each evaluation reads ", format_counted(asked_batches, "batch", "batches"), " of ", eval_B, " × ", eval_T,
                  " held-out tokens (the default, eval_tokens = 0)");
    const int64_t remaining = eval->remaining_batches();
    if (remaining >= 0 && remaining < eval_batches)
      fail("train: ", asked, ", but eval_data has only ", format_counted(remaining, "batch", "batches"), " (", remaining * eval_batch_tokens,
           " tokens) to give; give eval_tokens <= ", remaining * eval_batch_tokens,
           " or a held-out source that cycles (sampler:held_out())");
    const int64_t pass = eval->batches_per_pass();
    if (config.eval_tokens > 0 && pass > 0 && pass <= kMaxCount / kMaxEvalPasses && eval_pass_rows > 0 &&
        eval_pass_rows <= kMaxCount / eval_T && asked_batches > kMaxEvalPasses * pass) {
      const int64_t split_tokens = eval_pass_rows * eval_T;
      fail("train: ", asked, ", but the held-out data holds ", format_counted(eval_pass_rows, "sequence", "sequences"), " of ",
           eval_T, " tokens (", split_tokens, " tokens, ", format_counted(pass, "batch", "batches"),
           ") and then repeats them: that is ", format_ratio(double(config.eval_tokens) / double(split_tokens)),
           " passes over the same tokens, and an evaluation reads the held-out split at most once, every sequence "
           "weighted equally. Give eval_tokens <= ", split_tokens, " (the whole split; up to ",
           kMaxEvalPasses * pass * eval_batch_tokens, ", ", kMaxEvalPasses, " passes of ",
           format_counted(pass, "batch", "batches"), ", reads it once too), or hold out more of the corpus "
           "(data.sampler{ validation = ... })");
    }
  }
  const MicroBatches micro_batches = plan_micro_batches(
      shape, source_rows, eval_B, config.micro_batch,
      backend->name() == "cpu" ? static_cast<double>(available_memory_bytes()) : 0.0);
  const int64_t micro = micro_batches.train, splits = source_rows / micro;
  const int64_t eval_micro = micro_batches.eval, eval_splits = eval_B / eval_micro;

  if (!config.checkpoint.empty()) prepare_checkpoint_folder(config.checkpoint);
  backend->init(shape, config.optimizer, std::max(micro, eval_micro), config.seed);
  const std::string eval_start = read_eval ? eval->state() : std::string();
  // Batches split into passes of fewer rows round otherwise: a run resumes only in the same passes.
  const std::string passes =
      micro != source_rows || eval_micro != eval_B ? str("; passes of ", micro, " and ", eval_micro, " rows") : "";
  // The run as this version describes it, then as earlier ones did where they measured the held-out
  // loss otherwise: before a held-out split smaller than an evaluation was read once, the evaluation
  // went round it (asked_batches of eval_B rows, the measure kOldMeasure resumes with, so that the
  // run's curve and best loss stay measured alike); and the default's whole split was first written
  // without its rows (where that reads as the older measure, the older wins: it was out far longer).
  std::vector<std::string> prints{fingerprint(config, backend->name(), batch, T, steps,
                                              held_out_measure(eval_batches, eval_B, eval_T, eval_rows), passes)};
  constexpr size_t kOldMeasure = 1;
  if (eval_whole_split) {
    prints.push_back(fingerprint(config, backend->name(), batch, T, steps,
                                 held_out_measure(asked_batches, eval_B, eval_T, asked_batches * eval_B), passes));
    if (config.eval_tokens == 0 && eval_rows != eval_batches * eval_B)
      prints.push_back(fingerprint(config, backend->name(), batch, T, steps,
                                   held_out_measure(eval_batches, eval_B, eval_T, eval_batches * eval_B), passes));
  }
  const std::string legacy_print = legacy_fingerprint(config, backend->name(), batch, T, steps);

  RunResult result;
  result.backend = backend->name();
  result.device = backend->device();
  result.model = shape.Summary();
  result.params = shape.params();
  result.non_embedding_params = shape.non_embedding_params();
  result.requested_tokens = config.steps > 0 ? 0 : config.tokens;
  result.micro_batch = micro;
  result.split_for_memory = micro_batches.split_for_memory;

  std::vector<int32_t> tokens;
  // A data source's error during the run (a Lua source's next_batch raising): the run stops as
  // Ctrl-C stops it, writes its checkpoint and throws SourceFailed saying where. Unwinding from the
  // call, as it did, lost every step trained since the last checkpoint.
  struct SourceFailure {
    std::string source, method, step, cause;
  };
  std::optional<SourceFailure> source_failure;
  // Calls `call` on a source; on its error keeps it in source_failure and returns false.
  auto call_source = [&](const char* source, const char* method, const std::string& step, auto&& call) -> bool {
    try {
      call();
      return true;
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      source_failure = SourceFailure{source, method, step, e.what()};
      return false;
    }
  };
  // Ctrl-C during an evaluation stops it within one batch: it returns NaN and sets eval_interrupted
  // (an evaluation of many batches can take as long as many steps); the held-out source's error
  // too, setting eval_failed.
  bool eval_interrupted = false, eval_failed = false;
  auto evaluate = [&]() -> double {
    if (!can_eval) return kNaN;
    if (read_eval && !call_source("eval_data", "restore", "", [&] { eval->restore(eval_start); })) {
      eval_failed = true;
      return kNaN;
    }
    // Each pass's mean loss weighted by its rows over eval_micro: a full pass counts 1 (the sum as
    // it always was), a whole split's partial last one its share.
    double sum = 0;
    for (int64_t i = 0; i < eval_batches; ++i) {
      if (interrupt_requested()) {
        clear_interrupt();
        eval_interrupted = true;
        return kNaN;
      }
      if (read_eval && !call_source("eval_data", "next_batch", "", [&] { eval->next_batch(tokens); })) {
        eval_failed = true;
        return kNaN;
      }
      for (int64_t part = 0; part < eval_splits; ++part) {
        const int64_t rows = std::min(eval_micro, eval_rows - i * eval_B - part * eval_micro);
        if (rows <= 0) break;
        const double loss = backend->evaluate(
            read_eval ? tokens.data() + part * eval_micro * (eval_T + 1) : nullptr, rows, eval_T);
        sum += rows == eval_micro ? loss : loss * static_cast<double>(rows) / static_cast<double>(eval_micro);
      }
    }
    return sum / (static_cast<double>(eval_rows) / static_cast<double>(eval_micro));
  };

  RunState state;
  const std::string data_start = feed ? data->state() : std::string();
  size_t held_print = 0;
  std::string split_note;
  const bool resumed =
      !config.checkpoint.empty() && config.resume &&
      read_checkpoint(config.checkpoint, prints, legacy_print, eval_start, state, feed ? data : nullptr,
                      read_eval ? eval : nullptr, *backend, &held_print, &split_note);
  const int64_t first_step = state.step;
  auto add_note = [&](const std::string& text) { result.note += (result.note.empty() ? "" : "; ") + text; };
  if (!split_note.empty()) add_note(split_note);
  // A checkpoint an earlier version made of this run, its evaluations going round a small split: the
  // run goes on measuring so (its curve and best loss measured alike), and says so. So does one of a
  // version that did not record the held-out measure (legacy_print): every such version went round
  // the split (read once came later), and going on with the split read once mixed two measures on
  // the curve, unsaid. The checkpoints it writes record the measure it goes on with: written as this
  // version's, a second resume went on reading the split once.
  // (prints holds the earlier measure only where the split is read whole: elsewhere prints.size() is
  // kOldMeasure, and a legacy checkpoint is of this version's measure.)
  const bool legacy_resume = resumed && held_print == prints.size();
  const bool old_measure = resumed && eval_whole_split && (held_print == kOldMeasure || legacy_resume);
  const std::string& print = old_measure ? prints[kOldMeasure] : prints.front();
  if (old_measure) {
    add_note(str("resumed from a checkpoint made by an earlier scalelab, whose evaluations read ",
                 format_counted(asked_batches, "batch", "batches"), " of ", eval_B, " × ", eval_T,
                 config.eval_tokens > 0 ? str(" (eval_tokens = ", config.eval_tokens, ")") : std::string(" (the default)"),
                 " going round the held-out data's ", format_counted(eval_pass_rows, "sequence", "sequences"),
                 asked_batches * eval_B % eval_pass_rows != 0
                     ? std::string(", counting some more often than others")
                     : str(", each ", asked_batches * eval_B / eval_pass_rows, " times"),
                 legacy_resume ? " (that version's checkpoints do not record the held-out measure: its evaluations "
                                 "are taken to be of this run's eval_tokens)"
                               : "",
                 "; the run goes on measuring so, for a curve and best loss "
                 "measured alike; resume = false starts it over with each evaluation reading every sequence once, "
                 "each weighted equally"));
    eval_batches = asked_batches;
    eval_rows = asked_batches * eval_B;
  }
  // The cpu backend's sums are split by thread: on another count the run goes on (a checkpoint must
  // move to another machine), but not as it would have on the count the checkpoint was made on.
  if (resumed && state.threads > 0 && backend->rounding_threads() != state.threads) {
    auto threads = [](int64_t n) { return str(n, n == 1 ? " thread" : " threads"); };
    add_note(str("resumed on ", threads(backend->rounding_threads()), " from a checkpoint made on ", state.threads,
                 ": the continuation is not bitwise the one ", threads(state.threads),
                 state.threads == 1 ? " gives" : " give", "; threads = ", state.threads, " for that"));
  }
  // Legal but extreme optimizer settings, said where the run's other notes are (a backend that draws
  // its losses from a law uses none of them). AdamW moves each weight by up to about lr a step: above
  // 0.1 that is several times the weights themselves (initialised at about 0.02), and transformers
  // train at 1e-4 to 1e-2 (REFERENCE.md: Pythia 1e-3 at 14M-70M). An eps far above AdamW's 1e-8 exceeds
  // √v̂ (a weight's gradient RMS, often 1e-4 to 1e-2 in small models), where the step becomes
  // lr·m̂/eps: no longer normalised, and smaller than lr says.
  if (!draws && config.lr > kExtremeLearningRate)
    add_note(str("lr = ", config.lr, " is far above the learning rates AdamW trains transformers at (1e-4 to 1e-2; "
                 "Pythia 1e-3 at 14M-70M parameters): each step moves every weight by up to about lr, many times the "
                 "weights themselves, and such a run usually diverges; sweep lr from 1e-4 to 1e-1"));
  if (!draws && config.optimizer.eps > kExtremeEps)
    add_note(str("eps = ", config.optimizer.eps, " is far above AdamW's usual 1e-8: where it exceeds √v̂ (a weight's "
                 "gradient RMS, often 1e-4 to 1e-2 in small models) the step is lr·m̂/eps, smaller than lr and no "
                 "longer normalised per weight (momentum SGD at lr/eps); give eps = 1e-8 unless that is meant"));
  // An interval under half a step rounds to no steps, done at every one: eval_interval = 10 with 512
  // tokens a step evaluated every step without a word, and checkpoint_interval = 10 wrote a
  // checkpoint every step (the whole model and optimizer state each time). Said alike for both.
  auto note_under_half_step = [&](const char* name, int64_t interval, int64_t every, const char* done,
                                  const char* fewer) {
    if (interval > 0 && interval < tokens_per_step - tokens_per_step / 2 && every == 1)
      add_note(str(name, " = ", interval, " tokens is under half a step (", tokens_per_step,
                   " tokens a step, batch × seq_len = ", batch, " × ", T, "): the run ", done, " after every step; give ",
                   name, " = ", tokens_per_step, " for that, or a multiple of it for fewer ", fewer));
  };
  if (can_eval) note_under_half_step("eval_interval", config.eval_interval, eval_every, "evaluates", "evaluations");
  if (!config.checkpoint.empty())
    note_under_half_step("checkpoint_interval", config.checkpoint_interval, checkpoint_every,
                         "writes its checkpoint", "checkpoints");
  // Said when the run asked for more than the split (an eval_tokens that rounds up to whole batches
  // past its end reads it once without a word: what was asked for, or a few sequences more).
  if (eval_whole_split && !old_measure) {
    const std::string whole_split = str(format_counted(eval_pass_rows, "sequence", "sequences"), " of ", eval_T,
                                        " tokens (", eval_pass_rows * eval_T, " tokens)");
    const std::string read_once = ": each evaluation reads every held-out sequence once, each weighted equally; hold "
                                  "out more of the corpus (data.sampler{ validation = ... }) for a larger measure";
    if (config.eval_tokens == 0)
      add_note(str("the held-out data holds ", whole_split, ", fewer than the default evaluation's ", kDefaultEvalBatches,
                   " batches of ", eval_B, " × ", eval_T, read_once));
    else if ((config.eval_tokens - 1) / eval_T >= eval_pass_rows)
      add_note(str("eval_tokens = ", config.eval_tokens, " asks for more than the held-out data holds, ", whole_split,
                   read_once));
  }
  // Before any step: the data must hold every batch the run will ask for (a sampler plans its
  // batches; a run that asked for more would fail only once it had used them all).
  if (feed && state.step < steps && data->remaining_batches() >= 0) {
    const int64_t remaining = data->remaining_batches();
    const int64_t micro_tokens = source_rows * T;
    // The messages' products fit in int64: steps × tokens_per_step does (checked above), and each
    // refusal's `remaining` is below what the run needs (accumulation, or needed ≤ steps × accumulation).
    auto refuse = [&](const std::string& message) {
      if (resumed) data->restore(data_start);
      throw Error(message);
    };
    if (remaining == 0)
      refuse("train: the sampler has given every batch it planned (to an earlier run or next_batch calls) and "
             "has none left for this run; make a new data.sampler{...} for it, or plan more tokens with "
             "data.sampler{ tokens = ... }");
    if (accumulation > remaining)
      refuse(str("train: batch = ", batch, " rows takes ", accumulation, " of the sampler's batches of ", source_rows,
                 " rows per optimizer step, but the sampler has only ", format_counted(remaining, "batch", "batches"), " (",
                 remaining * micro_tokens, " tokens) left to give; lower batch to at most ", remaining * source_rows,
                 " rows (a multiple of ", source_rows, "), or plan more tokens with data.sampler{ tokens = ... }"));
    const int64_t needed = (steps - state.step) * accumulation;
    if (needed > remaining)
      refuse(str("train: this run needs ", needed * micro_tokens, " tokens (", steps - state.step, " steps of ",
                 batch, " × ", T, ") but the sampler has only ", remaining * micro_tokens, " (", format_counted(remaining, "batch", "batches"),
                 ") left to give; train on at most tokens = ", remaining / accumulation * tokens_per_step,
                 " (or leave tokens and steps out to train on what the sampler plans), or plan the run's tokens "
                 "with data.sampler{ tokens = ", steps * tokens_per_step, ", ... }"));
  }
  // The initial parameters' loss, the curve's first point (also when a checkpoint of step 0, written
  // by a run stopped before its first step, is resumed).
  if (config.notes && !result.note.empty()) config.notes(result.note);
  double eval_at_start = kNaN;
  if (state.step == 0) eval_at_start = evaluate();

  double train_seconds = 0;
  auto finish_point = [&](double eval_loss) {
    CurvePoint p;
    p.tokens = state.step * tokens_per_step;
    p.train_loss = state.train_count ? state.train_sum / static_cast<double>(state.train_count) : kNaN;
    p.eval_loss = eval_loss;
    state.curve.push_back(p);
    state.train_sum = 0;
    state.train_count = 0;
    if (std::isfinite(eval_loss) && !(eval_loss >= state.best)) state.best = eval_loss;
  };
  // The step after `step` at which something happens: an evaluation, a checkpoint or the end.
  const bool checkpoints = checkpoint_every > 0 && !config.checkpoint.empty();
  auto next_event = [&](int64_t step) {
    int64_t next = next_multiple(step, eval_every, steps);
    if (checkpoints) next = next_multiple(step, checkpoint_every, next);
    return next;
  };

  result.status = RunStatus::Done;
  auto interrupted_during_evaluation = [&]() {
    result.status = RunStatus::Interrupted;
    result.message = str(eval_failed ? "stopped" : interrupt_cause(), " during the held-out evaluation after ",
                         state.step, " of ", steps, " steps (a resumed run evaluates there again)");
  };
  if (eval_interrupted || eval_failed) interrupted_during_evaluation();
  // The evaluation at state.step and the curve's point there; false when it ended the run.
  auto evaluate_point = [&]() -> bool {
    const double eval_loss = evaluate();
    if (eval_interrupted || eval_failed) {
      interrupted_during_evaluation();
      return false;
    }
    finish_point(eval_loss);
    if (can_eval && !std::isfinite(eval_loss)) {
      result.status = RunStatus::Diverged;
      result.message = str("the held-out loss became ", format_number(eval_loss, 6), " at step ", state.step);
      return false;
    }
    return true;
  };
  double last_train = kNaN;
  const double prior_wall = state.wall_seconds;
  double saved_wall = -1;  // the run's seconds as the last checkpoint recorded them
  // A checkpoint that cannot be written (a full disk, its folder gone) does not throw the training
  // away: the run goes on (the next checkpoint tries again) and its result says what was not saved.
  int64_t written_step = resumed ? first_step : -1;  // the step of the last checkpoint written there
  int64_t failed_writes = 0, first_failed_step = 0;
  std::string first_failure;
  bool last_write_failed = false;
  // `data_state`: the training source's position to record, when not where it is now (a step whose
  // reading failed part-way: the position before it).
  auto save = [&](const std::string* data_state = nullptr) {
    const double wall = prior_wall + seconds_since(start);
    state.wall_seconds = wall;
    const double prior_train = state.train_seconds;
    state.train_seconds += train_seconds;
    state.timed_steps += state.step - first_step;
    std::string failure;
    try {
      write_checkpoint(config.checkpoint, print, state,
                       data_state ? *data_state : feed ? data->state() : std::string(), eval_start, *backend);
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      failure = e.what();
    }
    state.train_seconds = prior_train;
    state.timed_steps -= state.step - first_step;
    last_write_failed = !failure.empty();
    if (!last_write_failed) {
      saved_wall = wall;
      written_step = state.step;
    } else if (failed_writes++ == 0) {
      first_failure = failure;
      first_failed_step = state.step;
    }
  };
  // A checkpoint written when Ctrl-C stopped an evaluation holds the step before it, without the
  // curve's point there: evaluate it first, as the uninterrupted run did after that step.
  const bool evaluation_pending = resumed && state.step > 0 && (state.step % eval_every == 0 || state.step == steps) &&
                                  (state.curve.empty() || state.curve.back().tokens < state.step * tokens_per_step);
  if (evaluation_pending && result.status == RunStatus::Done && evaluate_point() && checkpoints &&
      state.step % checkpoint_every == 0 && state.step < steps)
    save();
  std::string step_data_state;  // the training source's state() before the step in progress
  while (result.status == RunStatus::Done && state.step < steps) {
    if (interrupt_requested()) {
      clear_interrupt();
      result.status = RunStatus::Interrupted;
      result.message = str(interrupt_cause(), " after ", state.step, " of ", steps, " steps");
      break;
    }
    if (config.stop && config.stop()) {
      result.status = RunStatus::Interrupted;
      result.message = str("stopped after ", state.step, " of ", steps, " steps");
      break;
    }
    const auto step_start = Clock::now();
    // One step, or for a backend that draws its losses every step up to the next event at once
    // (the first step alone: the curve's first point is the initial parameters' loss).
    const int64_t advance = draws && state.step > 0 ? next_event(state.step) - state.step : 1;
    double loss = 0;
    if (draws) {
      loss = backend->advance(advance, batch, T);
    } else {
      double loss_sum = 0;
      const int64_t passes = accumulation * splits;
      // The source's position before the step: a step whose reading fails part-way (its second of
      // `accumulation` batches, or a batch the source had advanced past before raising) is dropped,
      // and its checkpoint holds this position, from which a resume reads the step again.
      const std::string step = str(" for step ", state.step + 1, " of ", steps);
      bool read = !feed || call_source("data", "state", step, [&] { step_data_state = data->state(); });
      for (int64_t a = 0; read && a < accumulation; ++a) {
        if (feed && !(read = call_source("data", "next_batch", step, [&] { data->next_batch(tokens); }))) break;
        for (int64_t part = 0; part < splits; ++part)
          loss_sum += backend->accumulate(feed ? tokens.data() + part * micro * (T + 1) : nullptr, micro, T,
                                          1.0f / static_cast<float>(passes));
      }
      if (!read) {
        result.status = RunStatus::Interrupted;
        result.message = str("stopped after ", state.step, " of ", steps, " steps");
        break;
      }
      loss = loss_sum / static_cast<double>(passes);
    }
    if (!std::isfinite(loss)) {
      result.status = RunStatus::Diverged;
      result.message = str("the training loss became ", format_number(loss, 6), " at step ", state.step + 1,
                           "; lower the learning rate (lr = ", config.lr, ")");
      break;
    }
    if (state.step == 0) {  // the curve starts at the initial parameters
      state.train_sum = loss;
      state.train_count = 1;
      finish_point(eval_at_start);
      if (can_eval && !std::isfinite(eval_at_start)) {
        result.status = RunStatus::Diverged;
        result.message = str("the held-out loss of the initial parameters is ", format_number(eval_at_start, 6),
                             "; check the held-out data (eval_data)");
        break;
      }
    }
    const double norm = draws ? 1.0 : backend->update(learning_rate(config, state.step, steps));
    train_seconds += seconds_since(step_start);
    if (!std::isfinite(norm)) {
      result.status = RunStatus::Diverged;
      result.message = str("the gradient norm became ", format_number(norm, 6), " at step ", state.step + 1,
                           "; lower the learning rate (lr = ", config.lr, ")");
      break;
    }
    state.step += advance;
    state.train_sum += loss * static_cast<double>(advance);
    state.train_count += advance;
    last_train = loss;
    if ((state.step % eval_every == 0 || state.step == steps) && !evaluate_point()) break;
    if (checkpoints && state.step % checkpoint_every == 0 && state.step < steps) save();
    if (config.progress) {
      Progress p;
      p.step = state.step;
      p.steps = steps;
      p.tokens = state.step * tokens_per_step;
      p.total_tokens = steps * tokens_per_step;
      p.train_loss = loss;
      p.eval_loss = state.curve.empty() ? kNaN : state.curve.back().eval_loss;
      p.elapsed_seconds = seconds_since(start);
      p.tokens_per_second =
          train_seconds > 0 ? static_cast<double>((state.step - first_step) * tokens_per_step) / train_seconds : 0;
      if (!draws && state.step > first_step)
        p.eta_seconds = p.elapsed_seconds * static_cast<double>(steps - state.step) /
                        static_cast<double>(state.step - first_step);
      config.progress(p);
    }
  }
  // A step whose reading failed holds the source's position before it (its state() did not fail).
  const bool read_failed = source_failure && source_failure->source == "data" && source_failure->method != "state";
  if (result.status != RunStatus::Diverged && !config.checkpoint.empty()) save(read_failed ? &step_data_state : nullptr);
  if (failed_writes > 0) {
    const std::string more = failed_writes > 1 ? str(", and ", failed_writes - 1, failed_writes == 2 ? " later one" : " later ones") : "";
    result.checkpoint_failed = last_write_failed;
    std::error_code error;  // the folder may have gone with the file
    const bool there = written_step >= 0 && std::filesystem::is_regular_file(config.checkpoint, error);
    if (last_write_failed)
      add_note(str("the checkpoint ", config.checkpoint, " could not be written at step ", first_failed_step, more,
                   " (", first_failure, ")",
                   there ? str("; the last one written there is of step ", written_step, ", where a resume goes back to")
                         : std::string("; no checkpoint is there now, so a resume starts over"),
                   "; make room, or give a checkpoint path you can write"));
    else
      add_note(str("the checkpoint ", config.checkpoint, " could not be written at step ", first_failed_step, more,
                   " (", first_failure, "); the run went on, and its last checkpoint, of step ", written_step,
                   ", was written"));
  }

  result.curve = state.curve;
  // Interrupted between evaluations: measure the held-out loss where training stopped, for the
  // result only (the checkpoint keeps the curve of an uninterrupted run, so resuming stays exact).
  // Not when Ctrl-C stopped an evaluation (the user asked to stop it), nor when Ctrl-C stops this one;
  // not when a source failed (the run raises its error). The held-out source failing in this one is
  // raised as any source's error is (SourceFailed, below), the checkpoint written already: it was a
  // note beside a result that gave the loss of the evaluation before as the run's.
  if (result.status == RunStatus::Interrupted && !eval_interrupted && !source_failure && can_eval && state.step > 0 &&
      (result.curve.empty() || result.curve.back().tokens < state.step * tokens_per_step)) {
    CurvePoint p;
    p.tokens = state.step * tokens_per_step;
    p.train_loss = state.train_count ? state.train_sum / static_cast<double>(state.train_count) : kNaN;
    p.eval_loss = evaluate();
    if (eval_failed) {
      source_failure->step = " measuring the held-out loss where the run stopped";
    } else if (!eval_interrupted) {
      result.curve.push_back(p);
      if (std::isfinite(p.eval_loss) && !(p.eval_loss >= state.best)) state.best = p.eval_loss;
    }
  }
  result.steps = state.step;
  result.tokens = state.step * tokens_per_step;
  result.best_loss = state.best;
  // A diverged run has no final loss: the last finite one on its curve would pass for its result.
  result.final_loss = kNaN;
  if (result.status != RunStatus::Diverged) {
    for (auto p = result.curve.rbegin(); p != result.curve.rend(); ++p)
      if (!std::isnan(p->eval_loss) || !can_eval) {
        result.final_loss = p->eval_loss;
        break;
      }
  }
  result.final_train_loss = result.curve.empty() ? last_train : result.curve.back().train_loss;
  // Attention's FLOPs go with the rows' length T, which may be less than the model's ctx.
  result.flops = shape.flops_per_token(model::FlopConvention::Kaplan, T) * static_cast<double>(result.tokens);
  result.flops_palm = shape.flops_per_token(model::FlopConvention::PaLM, T) * static_cast<double>(result.tokens);
  // The whole run's figures, earlier sessions included (a resumed run reports the run, not the
  // few milliseconds of its last session).
  // A finished run's seconds are those its final checkpoint holds, so resuming it reports at least
  // as much as the run took.
  result.wall_seconds = result.status == RunStatus::Done && saved_wall >= 0 ? saved_wall
                                                                           : prior_wall + seconds_since(start);
  result.train_seconds = state.train_seconds + train_seconds;
  const double timed_tokens = static_cast<double>((state.timed_steps + state.step - first_step) * tokens_per_step);
  if (!draws) {  // a simulation's speed means nothing: it reports none
    result.tokens_per_second = result.train_seconds > 0 ? timed_tokens / result.train_seconds : 0;
    result.flops_per_second = result.tokens_per_second * shape.flops_per_token(model::FlopConvention::Kaplan, T);
    if (const double peak = backend->peak_flops(); peak > 0)
      result.mfu = result.tokens_per_second * shape.hardware_flops_per_token(T) / peak;
  }
  if (source_failure) {
    const SourceFailure& f = *source_failure;
    const std::string what = str(f.cause, " (in ", f.source, ":", f.method, "()", f.step, ": train ", result.message,
                                 where_kept("train", config, result), ")");
    throw SourceFailed(what, f.source, f.method, f.step, f.cause, std::move(result));
  }
  return result;
}

namespace {

// A checkpoint's fingerprint (the run's identity as train() describes it), read from the start of
// the file at `path`, with the stream left after it; nullopt where `path` holds no scalelab checkpoint.
std::optional<std::string> checkpoint_print(std::ifstream& in) {
  // A length-prefixed string (ByteWriter::string) of at most `limit` bytes, or nullopt.
  auto read_string = [&](uint64_t limit) -> std::optional<std::string> {
    uint64_t size = 0;
    if (!in.read(reinterpret_cast<char*>(&size), sizeof size) || size > limit) return std::nullopt;
    std::string text(static_cast<size_t>(size), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(size))) return std::nullopt;
    return text;
  };
  const std::optional<std::string> magic = read_string(64);
  if (!magic || (*magic != kCheckpointMagic && *magic != kCheckpointMagicV3 && *magic != kCheckpointMagicV2 &&
                 *magic != kCheckpointMagicV1))
    return std::nullopt;
  return read_string(1 << 16);
}

}  // namespace

std::optional<CheckpointPosition> checkpoint_position(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::optional<std::string> print = checkpoint_print(in);
  CheckpointPosition p;
  // The step follows the fingerprint in every version (write_checkpoint); the run's shape is in
  // the fingerprint, "...; batch B x T; steps S; ..." (fingerprint, legacy_fingerprint).
  if (!print || !in.read(reinterpret_cast<char*>(&p.step), sizeof p.step)) return std::nullopt;
  const size_t at = print->find("; batch ");
  long long batch = 0, seq_len = 0, steps = 0;
  if (at == std::string::npos ||
      std::sscanf(print->c_str() + at, "; batch %lld x %lld; steps %lld", &batch, &seq_len, &steps) != 3)
    return std::nullopt;
  p.batch = batch, p.seq_len = seq_len, p.steps = steps;
  if (p.step < 0 || p.step > p.steps || p.batch <= 0 || p.seq_len <= 0) return std::nullopt;
  return p;
}

std::optional<std::string> checkpoint_held_out_measure(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::optional<std::string> print = checkpoint_print(in);
  if (!print) return std::nullopt;
  const std::string key = "; held-out ";
  const size_t at = print->find(key);
  if (at == std::string::npos) return std::string();
  const size_t from = at + key.size();
  return print->substr(from, print->find("; ", from) - from);
}

std::string where_kept(const std::string& caller, const TrainConfig& config, const RunResult& result) {
  // Nothing trained (the first step failed) is nothing lost: it said "so its training is lost".
  if (config.checkpoint.empty() && result.steps == 0)
    return str(" without a checkpoint: nothing was trained yet, so nothing is lost (give ", caller,
               " checkpoint = \"run.ckpt\" to keep a run's training when something fails later)");
  if (config.checkpoint.empty())
    return str(" without a checkpoint, so its training is lost (give ", caller,
               " checkpoint = \"run.ckpt\" to keep it when something fails)");
  if (result.checkpoint_failed) return str("; ", result.note);
  return str("; the checkpoint ", config.checkpoint, " holds it, from which ", caller,
             " resumes when called again (unless resume = false)");
}

std::string RunResult::BriefReport() const {
  std::string loss = std::isnan(final_loss) ? str("train loss ", format_number(final_train_loss, 4))
                                            : str("held-out loss ", format_number(final_loss, 4),
                                                  " (best ", format_number(best_loss, 4), ")");
  if (status == RunStatus::Diverged)
    loss = std::isfinite(best_loss) ? str("no final loss (best held-out ", format_number(best_loss, 4), " before)")
                                    : "no final loss";
  std::string text = str(status_name(status), ": ", loss, " after ", format_count(static_cast<double>(tokens)),
                         " tokens");
  if (requested_tokens > 0 && requested_tokens != tokens && status == RunStatus::Done)
    text += str(" (tokens = ", requested_tokens, " rounded down to ", steps, " whole steps)");
  if (split_for_memory) text += str(" (in micro-batches of ", micro_batch, micro_batch == 1 ? " row" : " rows", " to fit memory)");
  if (unique_tokens > 0 && tokens > unique_tokens)
    text += str(", ", format_number(epochs, 3), " epochs of ", format_count(static_cast<double>(unique_tokens)),
                " unique tokens");
  text += str(", ", format_flops(flops), " FLOP (Kaplan's D·(6N + 6·L·T·d), N non-embedding), ", format_duration(wall_seconds));
  if (backend == "simulated") text += ", simulated";
  else text += str(", ", format_count(tokens_per_second), " tokens/s, ", format_flops(flops_per_second), " FLOP/s on ", backend);
  if (mfu > 0) text += str(" (MFU ", format_number(100 * mfu, 3), "%)");
  if (status != RunStatus::Done && !message.empty()) text += " (" + message + ")";
  if (!note.empty()) text += " (note: " + note + ")";
  return text;
}

}  // namespace scalelab::train

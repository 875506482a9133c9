// Lua module scalelab.native.train: train.run{...} -> RunResult.
//
// The data argument is anything that gives a data::BatchSource: the data module's samplers and
// held-out sources (used directly, no Lua in the loop), or any Lua table with the same protocol:
//   obj.vocab, obj.seq_len, obj.batch       numbers (or methods returning them)
//   obj:next_batch()                         B·(T+1) token ids, flat or as B rows of T+1
//   obj:state() -> string, obj:restore(s)    for checkpoints and held-out rewinds
// The held-out data is eval_data = ..., or else data:held_out() when the object has that method.
// A method's error stops the run before the step (or at the evaluation) it was reading for, its
// checkpoint written (train::SourceFailed), and is raised then, saying where the run stopped.
#include <lua.hpp>

#include <algorithm>
#include <cctype>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>

#include "bindings/binding.h"
#include "bindings/data.h"
#include "bindings/fit.h"
#include "bindings/modules.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "data/sampler.h"
#include "model/gpt.h"
#include "train/train.h"

namespace scalelab::lua {

template <>
struct TypeName<train::RunResult> {
  static constexpr const char* value = "scalelab.RunResult";
};
template <>
struct TypeName<model::GptConfig> {
  static constexpr const char* value = "scalelab.GptConfig";
};

namespace {

// A BatchSource that calls a Lua object's methods. Lives only during train.run (the object is
// pinned in the registry), runs on the calling Lua thread.
class LuaBatchSource final : public data::BatchSource {
 public:
  LuaBatchSource(lua_State* L, int index, std::string what) : L_(L), what_(std::move(what)), pin_(L, index) {
    vocab_ = integer_field("vocab");
    seq_len_ = integer_field("seq_len");
    batch_ = integer_field("batch");
    if (vocab_ < 1 || seq_len_ < 1 || batch_ < 1)
      fail(what_, ": vocab, seq_len and batch must be positive (got ", vocab_, ", ", seq_len_, ", ", batch_, ")");
  }
  LuaBatchSource(const LuaBatchSource&) = delete;
  LuaBatchSource& operator=(const LuaBatchSource&) = delete;

  int64_t vocab() const override { return vocab_; }
  int64_t seq_len() const override { return seq_len_; }
  int64_t batch() const override { return batch_; }

  void next_batch(std::vector<int32_t>& tokens) override {
    const int64_t row = seq_len_ + 1, total = batch_ * row;
    tokens.resize(static_cast<size_t>(total));
    call("next_batch", 0, 1);
    if (!lua_istable(L_, -1)) {
      lua_pop(L_, 1);
      fail(what_, ":next_batch() must return a table of token ids");
    }
    const lua_Integer n = luaL_len(L_, -1);
    if (n == total) {
      for (int64_t i = 0; i < total; ++i) tokens[i] = token(i + 1, i);
    } else if (n == batch_) {
      for (int64_t b = 0; b < batch_; ++b) {
        lua_geti(L_, -1, b + 1);
        if (!lua_istable(L_, -1) || luaL_len(L_, -1) != row) {
          lua_pop(L_, 2);
          fail(what_, ":next_batch(): row ", b + 1, " must hold seq_len + 1 = ", row, " token ids");
        }
        for (int64_t t = 0; t < row; ++t) tokens[b * row + t] = token(t + 1, b * row + t);
        lua_pop(L_, 1);
      }
    } else {
      lua_pop(L_, 1);
      fail(what_, ":next_batch() returned ", n, " entries; expected batch·(seq_len + 1) = ", total,
           " ids or ", batch_, " rows");
    }
    lua_pop(L_, 1);
  }

  std::string state() const override {
    call("state", 0, 1);
    size_t len = 0;
    const char* s = lua_tolstring(L_, -1, &len);
    std::string state = s ? std::string(s, len) : std::string();
    lua_pop(L_, 1);
    if (!s) fail(what_, ":state() must return a string");
    return state;
  }
  void restore(const std::string& state) override {
    lua_pushlstring(L_, state.data(), state.size());
    call("restore", 1, 0);
  }

  // Pushes the last error value a method raised that is no string (a table) and returns true, or
  // returns false when there is none.
  bool push_error() const {
    if (error_.ref == LUA_NOREF) return false;
    lua_rawgeti(L_, LUA_REGISTRYINDEX, error_.ref);
    return true;
  }

 private:
  int32_t token(lua_Integer key, int64_t position) const {
    lua_geti(L_, -1, key);
    int ok = 0;
    const lua_Integer id = lua_tointegerx(L_, -1, &ok);
    lua_pop(L_, 1);
    if (!ok) fail(what_, ":next_batch(): entry ", position + 1, " is not an integer token id");
    // Checked here, not only by the backend against the model's vocabulary: an id past 2^31 would
    // otherwise wrap to another token (2^40 became 0) and train on it silently.
    if (id < 0 || id >= vocab_ || id > std::numeric_limits<int32_t>::max())
      fail(what_, ":next_batch(): entry ", position + 1, " is ", id, ", outside the source's vocabulary [0, ", vocab_,
           ") (its vocab field); give token ids in that range, or a vocab that holds them");
    return static_cast<int32_t>(id);
  }
  // Calls obj:method(args...) with `nargs` arguments already on the stack. The method's error is
  // thrown as scalelab::Error (its value kept in error_ when it is no string): raised by lua_call, it
  // unwound the trainer from inside its step, which then could not stop and write its checkpoint.
  void call(const char* method, int nargs, int nresults) const {
    error_.clear();
    lua_rawgeti(L_, LUA_REGISTRYINDEX, pin_.ref);
    if (lua_getfield(L_, -1, method) != LUA_TFUNCTION) {
      lua_pop(L_, 2 + nargs);
      fail(what_, " has no method ", method, "(); a data source needs next_batch, state and restore");
    }
    lua_insert(L_, -2 - nargs);  // function below the arguments
    lua_insert(L_, -1 - nargs);  // object as the first argument
    if (lua_pcall(L_, nargs + 1, nresults, 0) == LUA_OK) return;
    if (lua_type(L_, -1) == LUA_TSTRING) {
      std::string message = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      throw Error(message);
    }
    const std::string type = got_type(L_, -1);
    error_.set(L_);
    fail("a ", type, " value raised by ", what_.substr(what_.find(": ") + 2), ":", method, "()");
  }
  int64_t integer_field(const char* name) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, pin_.ref);
    const int type = lua_getfield(L_, -1, name);
    if (type == LUA_TFUNCTION) {
      lua_pushvalue(L_, -2);
      lua_call(L_, 1, 1);
    }
    int ok = 0;
    const lua_Integer v = lua_tointegerx(L_, -1, &ok);
    lua_pop(L_, 2);
    if (!ok) fail(what_, " has no integer field ", name, " (a data source needs vocab, seq_len and batch)");
    return v;
  }

  // The object, held in the registry while the source lives. A member rather than a reference the
  // destructor drops: when the constructor fails (vocab = 0, a field that raises), no destructor
  // runs, and the object (with all it holds) stayed in the registry for good.
  struct Pin {
    Pin(lua_State* L, int index) : L(L) {
      lua_pushvalue(L, index);
      ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    ~Pin() { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    lua_State* L;
    int ref;
  };

  lua_State* L_;
  std::string what_;
  Pin pin_;
  int64_t vocab_ = 0, seq_len_ = 0, batch_ = 0;
  // The last error value a method raised that is no string (a table), in the registry: train.run
  // raises it as it was once the run has stopped.
  struct KeptError {
    lua_State* L = nullptr;
    int ref = LUA_NOREF;
    void set(lua_State* state) {  // pops the value
      clear();
      L = state;
      ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    void clear() {
      if (L) luaL_unref(L, LUA_REGISTRYINDEX, ref);
      ref = LUA_NOREF;
    }
    ~KeptError() { clear(); }
  };
  mutable KeptError error_;
};

// The data module's samplers and held-out sources directly (no Lua in the training loop); any
// other table or object through its Lua methods.
std::shared_ptr<data::BatchSource> to_source(lua_State* L, int index, const std::string& what) {
  if (lua_isuserdata(L, index)) {
    try {
      return check_batch_source(L, index);
    } catch (const std::exception& e) {  // name the argument: "train.run: data: expected ..."
      fail(what, ": ", e.what());
    }
  }
  if (!lua_istable(L, index))
    fail(what, " must be a data source (data.sampler{...}, sampler:held_out(), or a table with next_batch, "
               "state, restore, vocab, seq_len and batch), got ", got_type(L, index));
  return std::make_shared<LuaBatchSource>(L, index, what);
}

// Pushes data:held_out (a function) if the source at `index` has that method, else nothing;
// returns whether it pushed. Objects raise errors for unknown fields, so look in __methods.
bool push_held_out_method(lua_State* L, int index) {
  if (lua_istable(L, index)) {
    if (lua_getfield(L, index, "held_out") == LUA_TFUNCTION) return true;
    lua_pop(L, 1);
    return false;
  }
  if (luaL_getmetafield(L, index, "__methods") == LUA_TNIL) return false;
  const bool found = lua_getfield(L, -1, "held_out") == LUA_TFUNCTION;
  lua_remove(L, -2);
  if (!found) lua_pop(L, 1);
  return found;
}

// The progress bar: on a terminal only, redrawn at most five times a second. A simulated run draws
// its losses from a law, taking no training time: it says "simulated" where a trained run's speed
// and ETA go.
class ProgressBar {
 public:
  ProgressBar(bool enabled, bool simulated)
      : enabled_(enabled && isatty(fileno(stderr))), simulated_(simulated) {}
  ~ProgressBar() { clear(); }
  // Takes the bar off the terminal, so that what is written next starts a line of its own.
  void clear() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }
  void operator()(const train::Progress& p) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && p.step < p.steps && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    drawn_ = true;
    const double fraction = p.steps > 0 ? static_cast<double>(p.step) / static_cast<double>(p.steps) : 0;
    std::string speed = "simulated";
    if (!simulated_) {
      speed = format_count(p.tokens_per_second) + " tokens/s  ETA ";
      speed += p.step < p.steps && p.eta_seconds <= 0 ? std::string("?") : format_duration(p.eta_seconds);
    }
    std::string eval = std::isnan(p.eval_loss) ? "" : "  held-out " + format_significant(p.eval_loss, 4);
    const std::string rest = str("] ", format_count(static_cast<double>(p.tokens)), "/",
                                 format_count(static_cast<double>(p.total_tokens)), " tokens  loss ",
                                 format_significant(p.train_loss, 4), eval, "  ", speed);
    // One line narrower than the terminal: a line that wraps leaves a row behind at every redraw
    // ("\r" goes back to the start of the last row only). The bar narrows first, then the line is cut.
    const int columns = terminal_columns();
    int width = 24;
    if (columns > 0) width = std::clamp(columns - 2 - static_cast<int>(rest.size()), 8, 24);
    const int filled = static_cast<int>(fraction * width);
    std::string line = "[" + std::string(static_cast<size_t>(filled), '#') +
                       std::string(static_cast<size_t>(width - filled), '-') + rest;
    if (columns > 1 && line.size() >= static_cast<size_t>(columns)) line.resize(static_cast<size_t>(columns - 1));
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  }

 private:
  // The terminal's width now (it may be resized during a run); 0 when unknown.
  static int terminal_columns() {
    struct winsize size {};
    if (::ioctl(fileno(stderr), TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
  }
  bool enabled_, simulated_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

// How far a data.sampler is through the tokens it plans to deliver (its stats()); known = false for
// other data sources.
struct SamplerProgress {
  bool known = false;
  int64_t given = 0, planned = 0;  // tokens
};
SamplerProgress sampler_progress(lua_State* L, const Args& args) {
  SamplerProgress progress;
  const int at = lua_gettop(L) + 1;
  args.push("data");
  if (lua_isuserdata(L, at) && luaL_getmetafield(L, at, "__methods") == LUA_TTABLE) {
    if (lua_getfield(L, -1, "stats") == LUA_TFUNCTION) {
      lua_pushvalue(L, at);
      lua_call(L, 1, 1);
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "planned_tokens");
        lua_getfield(L, -2, "tokens");
        if (lua_isinteger(L, -2) && lua_isinteger(L, -1)) {
          progress.known = true;
          progress.planned = lua_tointeger(L, -2);
          progress.given = lua_tointeger(L, -1);
        }
      }
    }
  }
  lua_settop(L, at - 1);
  return progress;
}

// The model argument: a GptConfig, or an error saying what to pass.
model::GptConfig model_arg(lua_State* L, const Args& args) {
  const int type = args.push("model");
  if (type == LUA_TNIL)
    fail(args.function(), ": missing required key 'model' (a model.gpt{...} or model.shape_for{...})");
  model::GptConfig* config = test<model::GptConfig>(L, -1);
  if (!config) {
    std::string got = got_type(L, -1);
    if (type == LUA_TSTRING) got += str(" \"", lua_tostring(L, -1), "\"");
    else if (luaL_getmetafield(L, -1, "__name") == LUA_TSTRING) {
      got = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    fail(args.function(), ": model must be a model shape, model.gpt{ vocab =, ctx =, d_model =, n_layer =, "
         "n_head = } or model.shape_for{ params = N } (got ", got, ")");
  }
  model::GptConfig result = *config;
  lua_pop(L, 1);
  return result;
}

// The simulated backend's law: a table { E =, A =, B =, alpha =, beta =, noise = }, or a Law of the
// Chinchilla form (fit.published.chinchilla, fit.published.epoch, fit.chinchilla(obs), law:with{...}).
// Pushes the law argument (the caller pops it). noise = at the top level sets the noise of either.
void law_arg(lua_State* L, const Args& args, train::LossLaw& law) {
  const std::string& function = args.function();
  const char* accepted =
      "a table { E =, A =, B =, alpha =, beta = [, noise =] } or a law of the Chinchilla form "
      "E + A/N^alpha + B/D^beta (fit.published.chinchilla, fit.chinchilla(observations))";
  const int type = args.push("law");
  const int at = lua_gettop(L);
  if (type == LUA_TTABLE) {
    // fit.isoflop's result is a table: name it rather than its first unknown key.
    const bool isoflop = lua_getfield(L, at, "parabolas") != LUA_TNIL;
    lua_pop(L, 1);
    if (isoflop)
      fail(function, ": law must be ", accepted, "; this is an IsoFLOP result (fit.isoflop: a parabola per budget, "
           "N_opt and D_opt power laws), which the simulated backend does not draw from");
    Args table(L, at, function + ": law", {"E", "A", "B", "alpha", "beta", "noise"});
    // All five or none: a law with some of them would be another law with Chinchilla's values
    // filling the gaps, unasked.
    for (const char* name : {"E", "A", "B", "alpha", "beta"})
      if (!table.has(name))
        fail(function, ": law has no ", name, "; give all of E, A, B, alpha and beta (or law = fit.published.chinchilla, "
             "or law:with{ ... } to change some of a law's values)");
    law.E = table.number("E", law.E);
    law.A = table.number("A", law.A);
    law.B = table.number("B", law.B);
    law.alpha = table.number("alpha", law.alpha);
    law.beta = table.number("beta", law.beta);
    law.noise = table.number("noise", law.noise);
    if (table.has("noise") && args.has("noise"))
      fail(function, ": noise is given twice (law.noise and noise =): give one");
  } else if (const fit::FittedLaw* fitted = test<fit::FittedLaw>(L, at)) {
    const fit::Law& l = fitted->law;
    if (l.kind() != fit::LawKind::Chinchilla)
      fail(function, ": law must be ", accepted, "; law '", l.name(), "' has the ", fit::law_kind_name(l.kind()),
           " form (", l.formula(), "), which the simulated backend does not draw from",
           l.kind() == fit::LawKind::DataConstrained
               ? " (a study simulates a data-constrained law: study{ backend = { kind = \"simulated\", law = ... } })"
               : "");
    law.E = l.param("E");
    law.A = l.param("A");
    law.B = l.param("B");
    law.alpha = l.param("alpha");
    law.beta = l.param("beta");
  } else if (type != LUA_TNIL) {
    args.type_error("law", accepted);
  }
  law.noise = args.number("noise", law.noise);
}

// A held-out source over the corpus a sampler trains on, split with another validation fraction:
// some of its documents are in the sampler's training split, and its "held-out" loss is partly
// training loss. Refused, naming how many documents and the fix.
void refuse_trained_held_out(const char* function, const data::BatchSource* train_data, const data::BatchSource* eval) {
  const auto* sampler = dynamic_cast<const data::RepetitionSampler*>(train_data);
  const auto* held_out = dynamic_cast<const data::HeldOutSource*>(eval);
  if (!sampler || !held_out || sampler->corpus().raw_tokens() != held_out->corpus().raw_tokens()) return;
  const auto& trained = sampler->split().train;
  const auto& held = held_out->split().validation;
  int64_t shared = 0;
  for (int64_t d : held) shared += std::binary_search(trained.begin(), trained.end(), d) ? 1 : 0;
  if (shared == 0) return;
  const std::string ours = format_significant(sampler->options().validation, 6);
  fail(function, ": eval_data holds out validation = ", format_significant(held_out->options().validation, 6),
       " of the corpus, but data trains on all but validation = ", ours, " of it: ", shared, " of the ", held.size(),
       " held-out documents are trained on; ",
       sampler->options().validation > 0
           ? "give eval_data = data:held_out() (or data.held_out{ ..., validation = " + ours + " })"
           : std::string("evaluate on held-out data of another corpus, or make the sampler with validation > 0 and "
                         "evaluate on data:held_out()"));
}

// The required options a call leaves out, all in one error, each with what to give: asked one at a
// time, train.simulate{ model =, tokens = } said batch was missing, and only once batch was given, seq_len.
// Without data, a simulated run needs tokens (or steps), batch and seq_len; any other backend needs data.
void refuse_missing(lua_State* L, const Args& args) {
  const std::string& function = args.function();
  std::vector<std::string> missing, give;
  if (!args.has("model")) {
    missing.push_back("model");
    give.push_back("model = model.gpt{...} or model.shape_for{ params = N }");
  }
  if (!args.has("data")) {
    // A backend that is not a string is refused, naming it, once the rest is read.
    const int type = args.push("backend");
    const std::string backend = type == LUA_TSTRING ? lua_tostring(L, -1) : type == LUA_TNIL ? "cpu" : "";
    lua_pop(L, 1);
    if (backend.empty()) return;
    if (backend == "simulated") {
      if (!args.has("tokens") && !args.has("steps")) {
        missing.push_back("tokens");
        give.push_back("tokens = D (training tokens; or steps = S, optimizer steps)");
      }
      if (!args.has("batch")) {
        missing.push_back("batch");
        give.push_back("batch = B (rows per optimizer step)");
      }
      if (!args.has("seq_len")) {
        missing.push_back("seq_len");
        give.push_back("seq_len = T (tokens per row, at most the model's ctx)");
      }
    } else if (!args.has("law") && !args.has("noise")) {
      // With law or noise, the simulated backend was meant: that they apply only to it is said below.
      missing.push_back("data");
      give.push_back("data = a data.sampler{...} (only backend = \"simulated\" runs without data)");
    }
  }
  if (missing.empty()) return;
  std::string names, gives;
  for (size_t i = 0; i < missing.size(); ++i) {
    const char* sep = i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ";
    names += sep + missing[i];
    gives += (i == 0 ? "" : ", ") + give[i];
  }
  fail(function, ": ", names, missing.size() == 1 ? " is" : " are", " missing: give ", gives);
}

// train.run{...} and train.simulate{...}; `function` names the one the user called in every error.
int run_as(lua_State* L, const char* function) {
  // In the REPL, Ctrl-C returns to the prompt: a loop of runs whose run Ctrl-C stopped starts no next.
  if (stopped_by_interrupt())
    throw Interrupted(str("interrupted: ", function, " did not start, as Ctrl-C stopped a run earlier on this line "
                          "(that run returned its result)"));
  Args args(L, 1, function,
            {"model", "data", "eval_data", "tokens", "steps", "batch", "micro_batch", "seq_len", "lr", "warmup",
             "min_lr_ratio", "beta1", "beta2", "eps", "weight_decay", "clip", "seed", "eval_interval",
             "eval_tokens", "checkpoint", "checkpoint_interval", "resume", "backend", "threads", "law",
             "noise", "progress"});
  train::TrainConfig c;
  // A model given of the wrong kind is named first, as it was; then every option missing, at once.
  if (args.has("model")) c.model = model_arg(L, args);
  refuse_missing(L, args);

  std::shared_ptr<data::BatchSource> data, eval;
  if (args.push("data") != LUA_TNIL) {
    const int at = lua_gettop(L);
    data = to_source(L, at, str(function, ": data"));
    // Without eval_data, the held-out split of the same corpus: data:held_out().
    if (!args.has("eval_data") && push_held_out_method(L, at)) {
      lua_pushvalue(L, at);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const std::string full = lua_isstring(L, -1) ? lua_tostring(L, -1) : "an error";
        std::string why = full;
        lua_pop(L, 1);
        // Without the "file:line: " the error carries (the user's line is where this one points).
        const size_t colon = why.find(':');
        size_t digits = colon == std::string::npos ? colon : colon + 1;
        while (digits != std::string::npos && digits < why.size() && std::isdigit(static_cast<unsigned char>(why[digits])))
          ++digits;
        if (digits != std::string::npos && digits > colon + 1 && why.compare(digits, 2, ": ") == 0) why.erase(0, digits + 2);
        // A sampler made with validation = 0 holds nothing out: say what to give instead. Any other
        // error (a split too small, an interruption, memory) goes on as it came.
        if (why.find("this sampler holds no documents out (validation = 0") == std::string::npos) {
          lua_pushstring(L, full.c_str());
          lua_error(L);
        }
        fail(function, ": data gives no held-out split to evaluate on (the sampler was made with validation = 0); "
             "give eval_data = a held-out source, or make the sampler with validation > 0 (the fraction of "
             "documents held out)");
      }
      eval = to_source(L, lua_gettop(L), str(function, ": data:held_out()"));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (args.push("eval_data") != LUA_TNIL) eval = to_source(L, lua_gettop(L), str(function, ": eval_data"));
  lua_pop(L, 1);
  // Errors advise leaving eval_data out only where the data has a held-out split of its own to
  // evaluate on instead: a Lua source without held_out() has none, nor a sampler with validation = 0.
  if (args.has("eval_data")) {
    args.push("data");
    if (push_held_out_method(L, lua_gettop(L))) {
      lua_pop(L, 1);
      const auto* sampler = dynamic_cast<const data::RepetitionSampler*>(data.get());
      if (!sampler || sampler->options().validation > 0) c.eval_data_default = "data:held_out()";
    }
    lua_pop(L, 1);
  }
  refuse_trained_held_out(function, data.get(), eval.get());
  c.data = data.get();
  c.eval_data = eval.get();

  c.tokens = args.count("tokens", 0, 1, "training tokens D", true);
  c.steps = args.count("steps", 0, 1, "optimizer steps");
  if (args.has("tokens") && args.has("steps"))
    fail(function, ": give one of tokens (training tokens D) and steps (optimizer steps), not both");
  // Without tokens and steps, a data.sampler's planned tokens are the run's: what it still plans.
  const SamplerProgress sampler = sampler_progress(L, args);
  if (!args.has("tokens") && !args.has("steps")) {
    c.tokens = sampler.known ? sampler.planned - sampler.given : 0;
    if (c.tokens <= 0)
      fail(function, ": give tokens = D (training tokens) or steps = S (optimizer steps)",
           c.data ? "; the data source plans nothing more to deliver" : "");
  }
  c.batch = args.count("batch", 0, 1, "rows per optimizer step");
  c.micro_batch = args.count("micro_batch", 0, 1, "rows per forward and backward pass");
  c.seq_len = args.count("seq_len", 0, 1, "tokens per row");
  c.lr = args.number("lr", c.lr);
  c.warmup = args.number("warmup", c.warmup);
  c.min_lr_ratio = args.number("min_lr_ratio", c.min_lr_ratio);
  c.optimizer.beta1 = args.number("beta1", c.optimizer.beta1);
  c.optimizer.beta2 = args.number("beta2", c.optimizer.beta2);
  c.optimizer.eps = args.number("eps", c.optimizer.eps);
  c.optimizer.weight_decay = args.number("weight_decay", c.optimizer.weight_decay);
  c.optimizer.clip = args.number("clip", c.optimizer.clip);
  c.seed = static_cast<uint64_t>(args.count("seed", 1, 0, "the random seed"));
  c.eval_interval = args.count("eval_interval", 0, 0, "tokens between evaluations, 0: about 20 per run", true);
  c.eval_tokens = args.count("eval_tokens", 0, 0, "held-out tokens per evaluation, 0: 16 batches", true);
  c.checkpoint = args.string("checkpoint", "");
  if (args.has("checkpoint") && c.checkpoint.empty())
    fail(function, ": checkpoint = \"\" names no file; give a path (checkpoint = \"run.ckpt\"), or leave checkpoint out "
         "to train without one");
  c.checkpoint_interval = args.count("checkpoint_interval", 0, 0, "tokens between checkpoints, 0: only at the end", true);
  c.resume = args.boolean("resume", true);
  // A sampler is a stream: a second run on it trains on the tokens after the first run's. Without a
  // checkpoint to resume (which restores the sampler's place), say so: the same data again needs a
  // new sampler.
  if (sampler.known && sampler.given > 0 && sampler.given < sampler.planned && c.checkpoint.empty())
    std::fprintf(stderr,
                 "%s: note: the sampler has already given %s of the %s tokens it plans (to an earlier run or "
                 "next_batch calls); this run trains on the tokens after those. To train on the same data "
                 "again, make a new data.sampler{...} with the same arguments\n",
                 function, format_count(static_cast<double>(sampler.given)).c_str(),
                 format_count(static_cast<double>(sampler.planned)).c_str());
  c.backend = args.string("backend", "cpu");
  // An unknown name, said with the nearest one before the rest of the run is checked.
  const std::vector<std::string> names = train::backend_names();
  if (c.backend != "auto" && std::find(names.begin(), names.end(), c.backend) == names.end()) {
    try {
      train::make_backend(c.backend, 1, c.law);
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      fail(function, ": ", e.what());
    }
  }
  // Checked before the cast to int, which took threads = 2^32 as 0 (all cores).
  const int64_t threads = args.count("threads", 0, 0, "CPU threads, 0: all cores");
  if (threads > 4096) fail(function, ": threads must be in [0, 4096] (got ", threads, "; 0: all cores)");
  c.threads = static_cast<int>(threads);
  for (const char* key : {"law", "noise"})
    if (args.has(key) && train::resolve_backend(c.backend) != "simulated")
      fail("train.run: ", key, " applies only to the simulated backend (backend = \"simulated\", or train.simulate{...}); "
           "backend \"", c.backend, "\" trains the model: leave ", key, " out");
  law_arg(L, args, c.law);
  lua_pop(L, 1);

  // progress = true (default: a bar on a terminal), false, or a function(progress_table).
  bool bar_enabled = true;
  int callback = LUA_NOREF;
  const int progress_type = args.push("progress");
  if (progress_type == LUA_TBOOLEAN) {
    bar_enabled = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (progress_type == LUA_TFUNCTION) {
    bar_enabled = false;
    callback = luaL_ref(L, LUA_REGISTRYINDEX);
  } else if (progress_type == LUA_TNIL) {
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
    args.type_error("progress", "true, false or a function");
  }
  struct Unref {
    lua_State* L;
    int ref;
    ~Unref() { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
  } unref{L, callback};

  // The progress function's error, kept while the run stops and writes its checkpoint: raised by
  // lua_call from inside the loop, it unwound the run, and a long run lost every step it had trained.
  struct Failure {
    lua_State* L;
    int ref = LUA_NOREF;
    ~Failure() { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
  } failure{L};
  c.stop = [&] { return failure.ref != LUA_NOREF; };

  ProgressBar bar(bar_enabled, train::resolve_backend(c.backend) == "simulated");
  c.progress = [&](const train::Progress& p) {
    bar(p);
    // After Ctrl-C the host has armed a hook that raises a Lua error in the next Lua code run;
    // skip the callback so the loop stops cleanly at the next step with status "interrupted".
    if (callback == LUA_NOREF || failure.ref != LUA_NOREF || interrupt_requested()) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, callback);
    lua_createtable(L, 0, 9);
    const std::pair<const char*, double> fields[] = {
        {"step", static_cast<double>(p.step)},     {"steps", static_cast<double>(p.steps)},
        {"tokens", static_cast<double>(p.tokens)}, {"total_tokens", static_cast<double>(p.total_tokens)},
        {"loss", p.train_loss},                    {"eval_loss", p.eval_loss},
        {"elapsed", p.elapsed_seconds},            {"tokens_per_second", p.tokens_per_second},
        {"eta", p.eta_seconds}};
    for (const auto& [name, value] : fields) {
      if (std::isnan(value)) continue;
      lua_pushnumber(L, value);
      lua_setfield(L, -2, name);
    }
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) failure.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  };

  // The notes known before the first step (the configuration's, a resume's) are said then, before the
  // progress bar: said with the result, they came after the run, and after Ctrl-C stopped it (in the
  // REPL after its "^C", on the bar's line), where nothing of the stopped run but what was kept belongs.
  std::string said;
  c.notes = [&](const std::string& notes) {
    said = notes;
    std::fprintf(stderr, "%s: note: %s\n", function, notes.c_str());
    std::fflush(stderr);
  };

  train::RunResult result;
  // A data source's error part-way through the run: the run stopped and wrote its checkpoint.
  std::optional<train::SourceFailed> source_failed;
  {
    // Ctrl-C while the run calls a Lua data source or progress function stops the run at its next
    // step (checkpoint written, result returned), rather than unwinding it from inside the callback.
    DeferInterrupt defer;
    try {
      result = train::train(c);
    } catch (const Interrupted&) {
      throw;
    } catch (const train::SourceFailed& e) {
      source_failed = e;
      result = e.result;
    } catch (const Error& e) {
      // The trainer's errors name it "train:"; the user called train.run or train.simulate.
      const std::string what = e.what();
      if (what.rfind("train: ", 0) == 0) throw Error(str(function, ": ", what.substr(7)));
      if (what.rfind("backend \"", 0) == 0 || what.rfind("unknown backend", 0) == 0)
        throw Error(str(function, ": ", what));
      throw;
    }
  }
  if (source_failed) {
    // The source's error, raised now that the run stopped: where it failed, and what was kept. The
    // held-out source is named as the user gave it: eval_data, or the data's own data:held_out().
    const train::SourceFailed& f = *source_failed;
    // Ctrl-C stopped the run, whose held-out source then failed measuring its result: the run stopped
    // cleanly on it, so the interruption is settled (as for a result returned) and the error raised
    // is the source's, saying where the run stopped; a script still ends on it (exit status 130).
    if (interrupt_pending()) {
      settle_interrupt();
      note_stopped_by_interrupt();
    }
    const bool held_out = f.source == "eval_data";
    const std::string source = held_out && !args.has("eval_data") ? "data:held_out()" : f.source;
    const auto* lua_source = dynamic_cast<const LuaBatchSource*>(held_out ? eval.get() : data.get());
    if (!lua_source || !lua_source->push_error()) {
      const std::string message = str(f.cause, " (in ", source, ":", f.method, "()", f.step, ": ", function, " ",
                                      result.message, train::where_kept(function, c, result), ")");
      lua_pushlstring(L, message.data(), message.size());
    }
    lua_error(L);
  }
  if (failure.ref != LUA_NOREF) {
    // The progress function's error, raised now that the run stopped: it says what was kept.
    lua_rawgeti(L, LUA_REGISTRYINDEX, failure.ref);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const std::string message = str(lua_tostring(L, -1), " (in the progress function: ", function, " ",
                                      result.message, train::where_kept(function, c, result), ")");
      lua_pop(L, 1);
      lua_pushlstring(L, message.data(), message.size());
    }
    lua_error(L);
  }
  // The data's repetition, which only the sampler knows: U in use, and epochs = D / U. A simulated
  // run reads no data (its law draws the losses without it): none.
  if (const auto* sampler = dynamic_cast<const data::RepetitionSampler*>(data.get());
      sampler && result.backend != "simulated") {
    result.unique_tokens = sampler->stats().unique_tokens;
    if (result.unique_tokens > 0)
      result.epochs = static_cast<double>(result.tokens) / static_cast<double>(result.unique_tokens);
  }
  // The notes that came up during the run (a checkpoint that could not be written): result.note after
  // those said as it started.
  std::string unsaid = result.note;
  if (!said.empty() && unsaid.compare(0, said.size(), said) == 0) {
    unsaid.erase(0, said.size());
    if (unsaid.compare(0, 2, "; ") == 0) unsaid.erase(0, 2);
  }
  bar.clear();
  if (result.status == train::RunStatus::Interrupted) {
    // The host's SIGINT handler also armed hooks that would turn Ctrl-C into a Lua error at the
    // next instruction of the main thread and of each coroutine being resumed; the run already
    // stopped cleanly (its checkpoint written), so the interruption is settled and the hooks raise
    // nothing. In the REPL the caller gets its result; in a script Ctrl-C ends the script, which must
    // not go on to its next run.
    settle_interrupt();
    note_stopped_by_interrupt();
    if (interrupt_ends_script()) {
      // The script ends here: say what was kept and how to go on.
      const std::string note = unsaid.empty() ? "" : str(" (note: ", unsaid, ")");
      if (result.checkpoint_failed) throw Interrupted(str(result.message, note));
      if (!c.checkpoint.empty() && c.resume)
        throw Interrupted(str(result.message, "; the checkpoint ", c.checkpoint,
                              " holds it: run the script again to resume from there", note));
      if (!c.checkpoint.empty())
        throw Interrupted(str(result.message, "; the checkpoint ", c.checkpoint,
                              " holds it: train.run resumes from it unless resume = false", note));
      throw Interrupted(str(result.message, " (no checkpoint: give train.run checkpoint = \"run.ckpt\" to be able to resume)", note));
    }
  }
  // Said as it happens, also to a script that never prints the result: a checkpoint not written (a
  // resume on another thread count, and the configuration's notes, were said as the run started).
  if (!unsaid.empty()) std::fprintf(stderr, "%s: note: %s\n", function, unsaid.c_str());
  push(L, std::move(result));
  return 1;
}

// train.simulate{...}: train.run on the simulated backend (a shallow copy of the arguments).
int simulate(lua_State* L) {
  if (!lua_istable(L, 1))
    fail("train.simulate expects a table of named arguments, like train.simulate{ model = model.gpt{...}, tokens = "
         "1e9, batch = 8, seq_len = 256 }; got ", got_type(L, 1));
  // N and D are what a law speaks of; a run is given by its model and its tokens.
  for (const char* key : {"N", "D"})
    if (lua_getfield(L, 1, key) != LUA_TNIL) {
      lua_pop(L, 1);
      fail("train.simulate: give the model and its tokens, not ", key, " =: model = model.shape_for{ params = N } "
           "(or model.gpt{...}) and tokens = D");
    } else {
      lua_pop(L, 1);
    }
  // The backend is what train.simulate chooses: another one asked of it would be dropped unsaid.
  if (lua_getfield(L, 1, "backend") != LUA_TNIL &&
      !(lua_type(L, -1) == LUA_TSTRING && std::string(lua_tostring(L, -1)) == "simulated")) {
    const std::string got = lua_type(L, -1) == LUA_TSTRING ? str("\"", lua_tostring(L, -1), "\"") : got_type(L, -1);
    fail("train.simulate: backend = ", got, " contradicts train.simulate, which draws the losses from a law; leave "
         "backend out, or train the model with train.run{ backend = ", got, ", data = ... }");
  }
  lua_pop(L, 1);
  // The copy below is made at index 2: an argument after the table (train.simulate(options, nil)) put it at 3,
  // and the copying then indexed that argument ("attempt to index a nil value", naming nothing; a table
  // there was written into).
  lua_settop(L, 1);
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, 2);
  }
  lua_pushstring(L, "simulated");
  lua_setfield(L, 2, "backend");
  lua_replace(L, 1);
  lua_settop(L, 1);
  return run_as(L, "train.simulate");
}

int run(lua_State* L) { return run_as(L, "train.run"); }

// ---- RunResult properties -----------------------------------------------------------------------

void push_loss(lua_State* L, double value) {
  if (std::isnan(value)) lua_pushnil(L);
  else lua_pushnumber(L, value);
}

template <double train::RunResult::*Field>
int number_field(lua_State* L) {
  push_loss(L, check<train::RunResult>(L, 1).*Field);
  return 1;
}

template <int64_t train::RunResult::*Field>
int integer_field(lua_State* L) {
  lua_pushinteger(L, check<train::RunResult>(L, 1).*Field);
  return 1;
}

template <std::string train::RunResult::*Field>
int string_field(lua_State* L) {
  const std::string& s = check<train::RunResult>(L, 1).*Field;
  lua_pushlstring(L, s.data(), s.size());
  return 1;
}

// unique_tokens and epochs: nil where the data is no data.sampler (0 in the result).
int unique_tokens(lua_State* L) {
  const train::RunResult& r = check<train::RunResult>(L, 1);
  if (r.unique_tokens > 0) lua_pushinteger(L, r.unique_tokens);
  else lua_pushnil(L);
  return 1;
}

int epochs(lua_State* L) {
  const train::RunResult& r = check<train::RunResult>(L, 1);
  if (r.unique_tokens > 0) lua_pushnumber(L, r.epochs);
  else lua_pushnil(L);
  return 1;
}

int status(lua_State* L) {
  lua_pushstring(L, train::status_name(check<train::RunResult>(L, 1).status));
  return 1;
}

int curve(lua_State* L) {
  const auto& points = check<train::RunResult>(L, 1).curve;
  lua_createtable(L, static_cast<int>(points.size()), 0);
  for (size_t i = 0; i < points.size(); ++i) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, points[i].tokens);
    lua_setfield(L, -2, "tokens");
    push_loss(L, points[i].train_loss);
    lua_setfield(L, -2, "train_loss");
    push_loss(L, points[i].eval_loss);
    lua_setfield(L, -2, "eval_loss");
    lua_seti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

// train.checkpoint_held_out(path): the held-out measure the checkpoint records, false where it records
// none (an earlier version's), nil where path holds no checkpoint.
int checkpoint_held_out(lua_State* L) {
  const std::optional<std::string> measure = train::checkpoint_held_out_measure(luaL_checkstring(L, 1));
  if (!measure) lua_pushnil(L);
  else if (measure->empty()) lua_pushboolean(L, false);
  else lua_pushlstring(L, measure->data(), measure->size());
  return 1;
}

// train.checkpoint_position(path): { step =, steps =, batch =, seq_len =, tokens =, total_tokens = } of the
// checkpoint at path, nil where path holds no readable checkpoint.
int checkpoint_position(lua_State* L) {
  const std::optional<train::CheckpointPosition> p = train::checkpoint_position(luaL_checkstring(L, 1));
  if (!p) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 6);
  const double per_step = static_cast<double>(p->batch) * static_cast<double>(p->seq_len);
  for (const auto& [key, value] : {std::pair<const char*, lua_Integer>{"step", p->step}, {"steps", p->steps},
                                   {"batch", p->batch}, {"seq_len", p->seq_len}}) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
  }
  lua_pushnumber(L, static_cast<double>(p->step) * per_step);
  lua_setfield(L, -2, "tokens");
  lua_pushnumber(L, static_cast<double>(p->steps) * per_step);
  lua_setfield(L, -2, "total_tokens");
  return 1;
}

int backends(lua_State* L) {
  push_strings(L, train::backend_names());
  return 1;
}

int backend_available(lua_State* L) {
  const std::string name = luaL_checkstring(L, 1);
  bool available = false;
  try {
    available = train::backend_available(name);
  } catch (const Error& e) {
    fail("train.backend_available: ", e.what());
  }
  lua_pushboolean(L, available);
  return 1;
}

}  // namespace

int open_train(lua_State* L) {
  using R = train::RunResult;
  Class<R>::define(
      L,
      "The result of train.run: status, message, note, loss (final held-out), best_loss, train_loss, curve, "
      "tokens, unique_tokens, epochs, requested_tokens, flops, flops_palm, tokens_per_second, flops_per_second, "
      "mfu, params, non_embedding_params, wall_seconds, backend, device.",
      {},
      {{"status", &bound<status>, "\"done\", \"diverged\" or \"interrupted\""},
       {"message", &bound<string_field<&R::message>>, "why the run diverged or was interrupted"},
       {"note", &bound<string_field<&R::note>>,
        "what else to know of the run (\"\" when nothing): a checkpoint that could not be written, a resume on "
        "another thread count than the checkpoint's (not the bitwise continuation)"},
       {"loss", &bound<number_field<&R::final_loss>>, "held-out loss at the end (nats/token; nil without held-out data)"},
       {"best_loss", &bound<number_field<&R::best_loss>>, "lowest held-out loss seen"},
       {"train_loss", &bound<number_field<&R::final_train_loss>>, "mean training loss over the last interval"},
       {"curve", &bound<curve>, "{ {tokens =, train_loss =, eval_loss =}, ... }, from the initial parameters"},
       {"params", &bound<integer_field<&R::params>>, "N, all parameters (Chinchilla)"},
       {"non_embedding_params", &bound<integer_field<&R::non_embedding_params>>, "N without embeddings (Kaplan)"},
       {"tokens", &bound<integer_field<&R::tokens>>, "D, training tokens processed"},
       {"unique_tokens", &bound<unique_tokens>,
        "U, the unique tokens a data.sampler cycles over (its U in use); nil for other data and simulated runs"},
       {"epochs", &bound<epochs>,
        "tokens / unique_tokens: how often the run saw its unique tokens (D = epochs × U); nil without unique_tokens"},
       {"steps", &bound<integer_field<&R::steps>>, "optimizer steps taken"},
       {"micro_batch", &bound<integer_field<&R::micro_batch>>,
        "rows per forward and backward pass (fewer than the sampler's batch when given, or chosen to fit memory)"},
       {"requested_tokens", &bound<integer_field<&R::requested_tokens>>,
        "tokens as asked (0 when steps were given); tokens is it rounded down to whole steps"},
       {"flops", &bound<number_field<&R::flops>>, "training FLOPs, Kaplan convention: D·(6N + 6·L·T·d), N non-embedding, T the rows' length"},
       {"flops_palm", &bound<number_field<&R::flops_palm>>, "training FLOPs, PaLM convention: D·(6N + 12·L·T·d), N non-embedding, T the rows' length"},
       {"wall_seconds", &bound<number_field<&R::wall_seconds>>, "the whole run, evaluations included"},
       {"train_seconds", &bound<number_field<&R::train_seconds>>, "training steps only"},
       {"tokens_per_second", &bound<number_field<&R::tokens_per_second>>, "training tokens per second, over every session of a resumed run (0 when simulated)"},
       {"flops_per_second", &bound<number_field<&R::flops_per_second>>, "achieved FLOP/s: tokens_per_second × (6N + 6·L·T·d) (Kaplan convention, as flops; N non-embedding)"},
       {"mfu", &bound<number_field<&R::mfu>>, "model FLOPs utilisation, 6(N + V·d) + 12·L·T·d per token over the device's peak (0: unknown peak)"},
       {"backend", &bound<string_field<&R::backend>>, "\"cpu\", \"simulated\", \"cuda\""},
       {"device", &bound<string_field<&R::device>>, "what ran it"},
       {"model", &bound<string_field<&R::model>>, "the model's shape"}});
  new_module(
      L, "Training GPTs: train.run{...} -> RunResult.",
      {{"run", &bound<run>,
        "train.run{ model = model.gpt{...}, data = sampler, tokens = D | steps = S (default: what the sampler "
        "still plans to deliver) [, eval_data = held_out "
        "(default data:held_out())] [, lr = 1e-3, warmup = 0.01, min_lr_ratio = 0.1, batch = rows per step "
        "(a multiple of the sampler's batch: gradient accumulation), micro_batch = rows per forward and backward "
        "pass (a divisor of the sampler's batch; default: it, or on the cpu backend the largest divisor that fits "
        "in memory), beta1 = 0.9, beta2 = 0.95, eps = 1e-8, "
        "weight_decay = 0.1, clip = 1.0, seed = 1, eval_interval = tokens (0: about 20 evaluations per run), "
        "eval_tokens = held-out tokens per evaluation, rounded up to whole batches of eval_data (0: 16 batches; at most the held-out split, read once, each sequence weighted equally), checkpoint = path, "
        "checkpoint_interval = tokens between checkpoints, with checkpoint (0: only at the end or on Ctrl-C), resume = true, "
        "backend = \"cpu\" (the default) | \"cuda\" | \"auto\" (CUDA where built and a GPU is visible, else the CPU) | "
        "\"simulated\", "
        "threads = 0 (all cores), law = {E, A, B, alpha, beta, noise} or a Chinchilla-form Law, noise = (simulated), "
        "seq_len = (without data), "
        "progress = true | false | function(p) (after every step: p.step, steps, tokens, total_tokens, loss, "
        "eval_loss, elapsed, tokens_per_second (training only) and eta (seconds left, evaluations included))] } "
        "-> RunResult. tokens is rounded down to whole steps of "
        "batch × seq_len tokens (the summary says so). Checked before the first step: the sampler must plan "
        "every batch the run needs, and the model must fit in memory."},
       {"simulate", &bound<simulate>,
        "train.simulate{ model =, tokens = | steps =, batch =, seq_len = [, law = {E, A, B, alpha, beta, noise} | a "
        "Chinchilla-form Law (fit.published.chinchilla, fit.chinchilla(obs))] [, noise = 0.02] "
        "[, data = ...] } -> RunResult drawn from L(N, D) = E + A/N^alpha + B/D^beta (N all parameters, Chinchilla's "
        "count) times (1 + noise·ε), "
        "every draw in [0, ln(vocab)]; Chinchilla's published law by default. E in [0, ln(vocab)), A, B >= 0, "
        "alpha, beta > 0, noise in [0, 1). Instant whatever the step count (the losses between evaluations "
        "are drawn in closed form; at most 1000 evaluations and 1000 checkpoints, their intervals widened to fit); reports no speed (tokens/s means nothing here). "
        "train.run's other options work as there: seed (the noise's draws), eval_interval (the curve's evaluations), "
        "checkpoint, checkpoint_interval, resume and progress; the rest (lr, warmup, min_lr_ratio, beta1, beta2, eps, "
        "weight_decay, clip, micro_batch, threads, eval_tokens, eval_data) are checked as there, as a study passes them "
        "to every backend, and change nothing; backend, if given, must be \"simulated\""},
       {"backends", &bound<backends>, "train.backends() -> the names of the backends built in"},
       {"checkpoint_held_out", &bound<checkpoint_held_out>,
        "train.checkpoint_held_out(path) -> the held-out measure the checkpoint at path records (\"16 x 8 x 16\": "
        "each evaluation's batches x rows x tokens; \"2 x 8 x 16, 15 rows\": a split of 15 rows read whole), false "
        "where it records none (an earlier scalelab's: its evaluations went round a held-out split smaller than "
        "them, as a run resumed from it goes on doing), nil where path holds no checkpoint"},
       {"checkpoint_position", &bound<checkpoint_position>,
        "train.checkpoint_position(path) -> where the run of the checkpoint at path stands: { step, steps, batch, "
        "seq_len, tokens, total_tokens } (steps done of the run's steps, each of batch rows of seq_len tokens), nil "
        "where path holds no readable checkpoint"},
       {"backend_available", &bound<backend_available>,
        "train.backend_available(name) -> true when backend `name` can train on this machine (\"cuda\" not "
        "built, or built but no GPU: false); an unknown name is an error"}});
  return 1;
}

}  // namespace scalelab::lua

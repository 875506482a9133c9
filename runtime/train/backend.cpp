#include "train/backend.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "core/error.h"
#include "core/units.h"
#include "train/cpu_backend.h"
#include "train/simulated_backend.h"

namespace scalelab::train {

double LossLaw::operator()(double n, double d) const {
  return E + A / std::pow(n, alpha) + B / std::pow(d, beta);
}

void LossLaw::Validate(int64_t vocab) const {
  const double cap = std::log(static_cast<double>(vocab));
  const std::pair<const char*, double> all[] = {{"E", E},         {"A", A},       {"B", B},
                                                {"alpha", alpha}, {"beta", beta}, {"noise", noise}};
  for (const auto& [name, value] : all)
    if (!std::isfinite(value)) fail("train: law.", name, " must be a finite number (got ", format_number(value, 6), ")");
  if (!(E >= 0 && E < cap))
    fail("train: law.E (the irreducible loss) must be in [0, ln(vocab) = ", format_number(cap, 4),
         ") nats per token (got ", format_number(E, 6),
         "): a loss is never negative, and at ln(vocab) the model is no better than a uniform guess");
  if (!(A >= 0)) fail("train: law.A must be >= 0 (got ", format_number(A, 6), "): the loss falls as the model grows");
  if (!(B >= 0)) fail("train: law.B must be >= 0 (got ", format_number(B, 6), "): the loss falls as the data grows");
  if (!(alpha > 0)) fail("train: law.alpha must be > 0 (got ", format_number(alpha, 6), "): A/N^alpha shrinks with N");
  if (!(beta > 0)) fail("train: law.beta must be > 0 (got ", format_number(beta, 6), "): B/D^beta shrinks with D");
  if (!(noise >= 0 && noise < 1))
    fail("train: law.noise must be in [0, 1) (got ", format_number(noise, 6), "): the relative spread of the drawn losses, "
         "e.g. 0.02; 0 for none");
}

double Backend::advance(int64_t, int64_t, int64_t) {
  fail("backend \"", name(), "\" computes its losses: it cannot skip steps (advance)");
}

namespace {

struct Entry {
  BackendFactory factory;
  std::function<bool()> available;
};

std::mutex registry_mutex;

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> backends = [] {
    std::map<std::string, Entry> b;
    b["cpu"] = {[](int threads, const LossLaw&) { return make_cpu_backend(threads); }, nullptr};
    b["simulated"] = {[](int, const LossLaw& law) { return make_simulated_backend(law); }, nullptr};
    return b;
  }();
  return backends;
}

// Refuses an unknown backend name, naming it, the nearest of `names` and all of them.
[[noreturn]] void fail_unknown(const std::string& name, const std::vector<std::string>& names, const char* label) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + ("\"" + n + "\"");
  const std::string near = closest_name(name, names);
  fail("unknown backend \"", name, "\"", near.empty() ? "" : "; did you mean \"" + near + "\"?", " (", label, list, ")");
}

}  // namespace

void register_backend(const std::string& name, BackendFactory factory,
                      std::function<bool()> available) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry()[name] = {std::move(factory), std::move(available)};
}

std::vector<std::string> backend_names() {
  std::lock_guard<std::mutex> lock(registry_mutex);
  std::vector<std::string> names;
  for (const auto& [name, entry] : registry()) names.push_back(name);
  return names;
}

std::string resolve_backend(const std::string& name) {
  if (name != "auto") return name;
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto cuda = registry().find("cuda");
  if (cuda != registry().end() && (!cuda->second.available || cuda->second.available()))
    return "cuda";
  return "cpu";
}

bool backend_available(const std::string& name) {
  if (name == "auto") return true;
  std::function<bool()> available;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto found = registry().find(name);
    if (found == registry().end()) {
      // "cuda" is known where it is not built: it cannot train here. Any other name is a mistake.
      if (name == "cuda") return false;
      std::vector<std::string> names{"auto"};
      for (const auto& [n, e] : registry()) names.push_back(n);
      if (!registry().count("cuda")) names.push_back("cuda");
      std::sort(names.begin(), names.end());
      fail_unknown(name, names, "known backends: ");
    }
    available = found->second.available;
  }
  return !available || available();
}

std::unique_ptr<Backend> make_backend(const std::string& requested, int threads, const LossLaw& law) {
  const std::string name = resolve_backend(requested);
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto found = registry().find(name);
    if (found == registry().end()) {
      std::vector<std::string> names{"auto"};
      for (const auto& [n, e] : registry()) names.push_back(n);
      fail_unknown(name, names, "backends here: ");
    }
    entry = found->second;
  }
  if (entry.available && !entry.available())
    fail("backend \"", name, "\" is built but cannot run on this machine (no usable device); use "
         "backend = \"auto\" or \"cpu\"");
  return entry.factory(default_threads(threads), law);
}

int default_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

}  // namespace scalelab::train

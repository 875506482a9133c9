#include "train/backend.h"

#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "train/cpu_backend.h"

namespace scalelab::train {

double LossLaw::operator()(double n, double d) const {
  return E + A / std::pow(n, alpha) + B / std::pow(d, beta);
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

std::unique_ptr<Backend> make_backend(const std::string& requested, int threads, const LossLaw& law) {
  const std::string name = resolve_backend(requested);
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto found = registry().find(name);
    if (found == registry().end()) {
      std::vector<std::string> names{"auto"};
      for (const auto& [n, e] : registry()) names.push_back(n);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + ("\"" + n + "\"");
      const std::string near = closest_name(name, names);
      fail("unknown backend \"", name, "\"", near.empty() ? "" : "; did you mean \"" + near + "\"?",
           " (backends here: ", list, ")");
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

#include "core/paths.h"

#include "core/error.h"

#include <cerrno>
#include <filesystem>

namespace scalelab {

namespace {
// The path as a Lua string literal (the fix is Lua code).
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string unexpanded_home(const std::string& what, const std::string& key, const std::string& path) {
  if (!(path == "~" || path.rfind("~/", 0) == 0)) return "";
  const std::string option = key.empty() ? "" : key + " = ";
  const std::string home = path == "~" ? "os.getenv(\"HOME\")" : "os.getenv(\"HOME\") .. " + quoted(path.substr(1));
  return what + " " + option + quoted(path) + ": ~ is not the home folder in a Lua string (only a shell expands it), " +
         "and this would make a folder named '~' in the current one; write " + option + home + ", or " +
         quoted("./" + path) + " for a folder that is named ~";
}

void refuse_unexpanded_home(const std::string& what, const std::string& key, const std::string& path) {
  const std::string message = unexpanded_home(what, key, path);
  if (!message.empty()) fail(message);
}

std::string missing_path_fix(const std::string& path, int error) {
  if (error != ENOENT) return "";
  std::error_code failed;
  const std::string here = path.empty() || path[0] == '/' ? "" : std::filesystem::current_path(failed).string();
  return here.empty() || failed ? "; check the path"
                                : str("; check the path (a relative path is read from the current folder, ", here, ")");
}

}  // namespace scalelab

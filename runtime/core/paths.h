// Paths as users write them.
#pragma once

#include <string>

namespace scalelab {

// A path written as to a shell, "~" or "~/runs/x.db": only a shell expands ~ (Lua and C++ do not),
// and the program would make a folder named '~' in the current one (which `rm -rf ~` then aims at
// the home folder to remove). Returns why, naming the path and the fix, or "" for any other path.
// `what` leads the message ("store.open:", "study:"); `key`, when given, is the option that took the
// path (store = ...), and the fix is written as that option.
std::string unexpanded_home(const std::string& what, const std::string& key, const std::string& path);

// Throws unexpanded_home's message, if any.
void refuse_unexpanded_home(const std::string& what, const std::string& key, const std::string& path);

// What to do about a path that cannot be opened for the system's reason `error` (an errno): for a path
// that is not there (ENOENT), "; check the path", with the current folder a relative path is read from
// (not the script's); "" for any other reason, which strerror says well enough.
std::string missing_path_fix(const std::string& path, int error);

}  // namespace scalelab

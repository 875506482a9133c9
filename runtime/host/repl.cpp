// The REPL, after lua.c and Torch's trepl:
//   - a line is first tried as "return <line>" so expressions print their values (through
//     scalelab.repl.show, which pretty-prints tables and one-line summaries of objects);
//     a trailing ';' silences the values;
//   - a chunk that ends early (a syntax error at <eof>) continues on a second prompt ">> ";
//   - statements and then an expression ("x = 2; x * 21") run, and the expression's values print;
//   - lines pasted together (readline's bracketed paste hands them over at once) run one by one,
//     until one fails: the lines after it do not run (Up recalls them);
//   - readline history in ~/.scalelab_history (a multi-line entry stays one entry across sessions;
//     without HOME, the session's only);
//     Tab completes globals, fields and methods
//     (scalelab.repl.complete, which follows __index metatables);
//   - Ctrl-C during a computation interrupts it (Host::call; a second one stops it even where its own
//     pcall caught the first); at the prompt it clears the line and never leaves (on ">> " it drops
//     the unfinished entry, which Up recalls); Ctrl-D leaves (on ">> ", on a terminal, it drops the
//     unfinished entry too); Ctrl-Z suspends (job control).
// Without a terminal, or without readline, lines are read plainly.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <iostream>
#include <string>
#include <vector>

#include "core/interrupt.h"
#include "host/host.h"

#ifdef SCALELAB_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

namespace scalelab::host {

namespace {

// Pushes the library's REPL helpers, scalelab.repl: package.loaded's copy, or require's. Raises a
// Lua error (a user may have replaced require, or package.loaded's entry): run it protected only.
void push_repl_module(lua_State* L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "scalelab.repl") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "scalelab.repl");
    lua_call(L, 1, 1);
  }
  lua_remove(L, -2);
}

// Set while show_values calls the global print, and left set when print raised: the error of a show that
// failed is print's (the user's print), not the REPL's.
bool g_in_print = false;

// show_values(...): prints the values as scalelab.repl.show does: the line scalelab.repl.text makes,
// through the global print, or scalelab.repl.write where print cannot be called. print is called
// from here, a C function, rather than from repl.show: Lua's error() names the position of its
// caller's caller, so print = error, then 1, said "stdlib/scalelab/repl.lua:26: 1" (error("x", 2) in a
// print of the user's did too), a line of the REPL's that the user never wrote. Called protected
// (Host::call): an error there is reported like any other, and the REPL goes on.
int show_values(lua_State* L) {
  const int n = lua_gettop(L);
  push_repl_module(L);
  const int repl = lua_gettop(L);
  lua_getfield(L, repl, "text");
  for (int i = 1; i <= n; ++i) lua_pushvalue(L, i);
  lua_call(L, n, 1);
  const int text = lua_gettop(L);
  lua_getglobal(L, "print");
  const bool printing = callable(L, -1);
  if (!printing) {
    lua_pop(L, 1);
    lua_getfield(L, repl, "write");
  }
  lua_pushvalue(L, text);
  g_in_print = printing;
  lua_call(L, 1, 0);
  g_in_print = false;
  return 0;
}

// The message (with its traceback) of an error raised while the REPL showed a line's values, without
// the REPL's own frame: the traceback's last, show_values's "[C]: in ?", below the user's print (print
// = function() error("x") end, then 1), which no other error at the prompt shows. It was cut after the
// user's outermost frame, told from the library's by the file each line of the traceback names; but Lua
// writes a name longer than 60 characters as "..." and its end, and every such frame was taken for not
// the user's: a print defined in a script of a long path (scalelab -i /a/long/path/s.lua) kept the
// REPL's frames below it (repl.lua's repl.show, then "[C]: in ?"). The frame is the last whatever the
// names: nothing is read from them.
std::string without_show_frames(const std::string& message) {
  static const std::string own = "\n\t[C]: in ?";
  if (message.find("\nstack traceback:") == std::string::npos || message.size() < own.size() ||
      message.compare(message.size() - own.size(), own.size(), own) != 0)
    return message;
  return message.substr(0, message.size() - own.size());
}

volatile sig_atomic_t g_prompt_interrupt = 0;
void on_prompt_sigint(int) { g_prompt_interrupt = 1; }

// Interrupted: Ctrl-C with text on the line (cleared); InterruptedEmpty: Ctrl-C on an empty line.
enum class Read { Line, Eof, Interrupted, InterruptedEmpty };

Read read_plain(const char* prompt, bool show_prompt, std::string& out) {
  if (show_prompt) {
    std::fputs(prompt, stdout);
    std::fflush(stdout);
  }
  out.clear();
  for (;;) {
    int c = std::getchar();
    if (c == EOF) {
      if (g_prompt_interrupt || (std::ferror(stdin) && errno == EINTR)) {
        std::clearerr(stdin);
        g_prompt_interrupt = 0;
        std::fputc('\n', stdout);
        return out.empty() ? Read::InterruptedEmpty : Read::Interrupted;
      }
      return out.empty() ? Read::Eof : Read::Line;
    }
    if (c == '\n') return Read::Line;
    out.push_back(static_cast<char>(c));
  }
}

#ifdef SCALELAB_HAVE_READLINE
lua_State* g_completion_state = nullptr;
const std::string* g_pending_entry = nullptr;  // the unfinished entry's earlier lines (Host::repl's pending)
std::vector<std::string> g_matches;

char* completion_generator(const char*, int state) {
  static size_t next;
  if (state == 0) next = 0;
  if (next >= g_matches.size()) return nullptr;
  return strdup(g_matches[next++].c_str());
}

// complete_word(word, before) -> scalelab.repl.complete(word, before). Called protected.
int complete_word(lua_State* L) {
  push_repl_module(L);
  lua_getfield(L, -1, "complete");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

// Readline's completion hook: asks scalelab.repl.complete(word) for candidates. Everything that can
// raise a Lua error runs inside the pcall: outside one, an error would end the program (Lua's panic).
// The text before the word goes along (the entry's earlier lines, then the line's up to the word), so
// that a word inside a string or a comment is not completed: readline breaks words at a quote, and
// Tab in print("string.fo completed string.format (and closed the quote) inside the string.
char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // no file-name completion
  g_matches.clear();
  lua_State* L = g_completion_state;
  const int top = lua_gettop(L);
  std::string before = g_pending_entry && !g_pending_entry->empty() ? *g_pending_entry + "\n" : "";
  before.append(rl_line_buffer, static_cast<size_t>(std::max(start, 0)));
  lua_pushcfunction(L, complete_word);
  lua_pushstring(L, text);
  lua_pushlstring(L, before.data(), before.size());
  if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    const lua_Unsigned n = lua_rawlen(L, -1);
    for (lua_Unsigned i = 1; i <= n; ++i) {
      if (lua_rawgeti(L, -1, static_cast<lua_Integer>(i)) == LUA_TSTRING) g_matches.emplace_back(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  rl_completion_append_character = '\0';
  if (g_matches.empty()) return nullptr;
  return rl_completion_matches(text, completion_generator);
}

bool g_line_done = false;
bool g_line_eof = false;
bool g_ctrl_c = false;        // the line ended with Ctrl-C rather than Enter
bool g_ctrl_c_empty = false;  // ... on an empty line
std::string g_line;

void on_line(char* line) {
  g_line_done = true;
  g_line_eof = line == nullptr;
  if (line) {
    g_line = line;
    std::free(line);
  }
  rl_callback_handler_remove();
}

// Ctrl-C while editing a line. The terminal's ISIG is off while readline reads (prep_terminal), so
// Ctrl-C arrives as a key rather than as SIGINT: no signal can race with readline's reads.
std::string g_cleared;  // the text Ctrl-C cleared from the line

int on_ctrl_c(int, int) {
  g_ctrl_c = true;
  g_ctrl_c_empty = rl_end == 0;
  g_cleared.assign(rl_line_buffer, static_cast<size_t>(std::max(rl_end, 0)));
  rl_replace_line("", 0);
  rl_done = 1;  // ends the line: readline calls on_line
  return 0;
}

int g_prep_meta = 1;  // what readline last asked prep_terminal for (its 8-bit input setting)
void prep_terminal(int meta);

// Ctrl-Z while editing a line, a key too (ISIG is off): suspend the REPL as the terminal would with
// ISIG on (as lua.c and python are suspended; `fg` resumes), with the terminal's settings restored
// meanwhile, then take the terminal again and redraw the prompt and the line being edited. Where
// job control cannot stop the process (an orphaned process group), SIGTSTP is discarded and
// editing goes on.
int on_ctrl_z(int, int) {
  rl_deprep_terminal();
  std::raise(SIGTSTP);
  prep_terminal(g_prep_meta);
  rl_forced_update_display();
  return 0;
}

void prep_terminal(int meta) {
  g_prep_meta = meta;
  rl_prep_terminal(meta);  // saves the terminal's settings; rl_deprep_terminal restores them, ISIG too
  termios settings;
  if (tcgetattr(STDIN_FILENO, &settings) == 0) {
    settings.c_lflag &= ~static_cast<tcflag_t>(ISIG);
    tcsetattr(STDIN_FILENO, TCSANOW, &settings);
  }
}

Read read_readline(const char* prompt, std::string& out) {
  g_line_done = g_line_eof = g_ctrl_c = false;
  g_line.clear();
  g_cleared.clear();
  rl_callback_handler_install(prompt, on_line);  // from here the terminal's ISIG is off
  while (!g_line_done) {
    // A Ctrl-C between two lines, while the terminal still sent SIGINT, counts as one at the prompt.
    if (g_prompt_interrupt) {
      g_prompt_interrupt = 0;
      g_ctrl_c = true;
      g_ctrl_c_empty = true;
      rl_replace_line("", 0);
      rl_callback_handler_remove();
      break;
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(STDIN_FILENO, &fds);
    if (select(STDIN_FILENO + 1, &fds, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      rl_callback_handler_remove();
      return Read::Eof;
    }
    rl_callback_read_char();
  }
  if (g_ctrl_c) {
    std::fputc('\n', stdout);
    std::fflush(stdout);
    out = g_cleared;
    return g_ctrl_c_empty ? Read::InterruptedEmpty : Read::Interrupted;
  }
  if (g_line_eof) {
    std::fputc('\n', stdout);
    return Read::Eof;
  }
  out = g_line;
  return Read::Line;
}

// "" when HOME is unset or empty: the history is then kept for the session only (it went to the
// folder the REPL was started in, wherever that was).
std::string history_path() {
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.scalelab_history" : "";
}

// The history file is readline's format, read and written here: each entry is a "#<time>" line
// and the entry's lines after it. Readline's own reader takes any line "#<digit>..." for the next
// entry's time, so a line of that form inside an entry (a long string holding "#1700000000", an
// expression "#1") split its entry in two, and the next session recalled its halves. Written here,
// such a line gets a backslash before it ("\#1700000000"), as does a line that already has
// backslashes there ("\\#1..." keeps its own); reading takes one off again.
bool is_timestamp(const std::string& line) {
  return line.size() >= 2 && line[0] == '#' && std::isdigit(static_cast<unsigned char>(line[1]));
}

bool is_escaped_timestamp(const std::string& line) {
  const size_t first = line.find_first_not_of('\\');
  return first != 0 && first != std::string::npos && is_timestamp(line.substr(first));
}

// Appends the entry, its time line first. Returns 0, or the errno of what failed.
int write_history_entry(std::FILE* file, const char* text, const char* time) {
  std::string out = time && is_timestamp(time) ? time : "#" + std::to_string(static_cast<long long>(std::time(nullptr)));
  out += '\n';
  std::string entry = text;
  size_t start = 0;
  for (;;) {
    const size_t end = entry.find('\n', start);
    const std::string line = entry.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (is_timestamp(line) || is_escaped_timestamp(line)) out += '\\';
    out += line;
    out += '\n';
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return std::fwrite(out.data(), 1, out.size(), file) == out.size() ? 0 : (errno != 0 ? errno : EIO);
}

// One entry of the history file: its text (lines joined by \n) and its "#<time>" line ("" when it had none).
struct HistoryEntry {
  std::string text;
  std::string time;
};

// Writes `entries` to the file, appended or in place of what it held.
// In place: written to a file beside it (its mode kept) that then replaces it, the file a link
// points to where it is one, so that a write that fails (a full disk, a quota) leaves the history
// as it was. Opened "w", the file was emptied first, and such a failure lost every entry it held.
// Returns 0, or the errno of what failed.
int write_history_file(const std::string& path, const std::vector<HistoryEntry>& entries, bool append) {
  std::string target = path;
  if (!append) {
    if (char* resolved = ::realpath(path.c_str(), nullptr)) {
      target = resolved;
      std::free(resolved);
    }
  }
  const std::string written = append ? target : target + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
  // A file made here is its owner's alone to read (0600), as readline and bash make theirs: made by
  // fopen, it was readable by every user of the machine (0644 under the usual umask), and the lines
  // typed can hold what others must not read (a token, a password given to a function). A file
  // that is there keeps its mode.
  errno = 0;
  const int fd = ::open(written.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
  std::FILE* file = fd < 0 ? nullptr : ::fdopen(fd, append ? "a" : "w");
  if (!file) {
    const int error = errno != 0 ? errno : EIO;
    if (fd >= 0) ::close(fd);
    return error;
  }
  struct stat info {};
  if (!append && ::stat(target.c_str(), &info) == 0) ::fchmod(::fileno(file), info.st_mode & 07777);
  int error = 0;
  for (size_t i = 0; i < entries.size() && error == 0; ++i)
    error = write_history_entry(file, entries[i].text.c_str(), entries[i].time.c_str());
  if (error == 0 && std::fflush(file) != 0) error = errno != 0 ? errno : EIO;
  if (std::fclose(file) != 0 && error == 0) error = errno != 0 ? errno : EIO;
  if (!append) {
    if (error == 0 && std::rename(written.c_str(), target.c_str()) != 0) error = errno != 0 ? errno : EIO;
    if (error != 0) std::remove(written.c_str());
  }
  return error;
}

// The file's entries, oldest first; false when it cannot be read. A file without time lines (one
// readline wrote without them) is one entry a line.
bool parse_history_file(const std::string& path, std::vector<HistoryEntry>& out) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (!file) return false;
  std::vector<std::string> lines;
  std::string line;
  for (int c; (c = std::fgetc(file)) != EOF;) {
    if (c != '\n') {
      line.push_back(static_cast<char>(c));
      continue;
    }
    lines.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) lines.push_back(std::move(line));
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return false;
  std::string entry, time;
  bool open = false;  // an entry (after a time line) is being read
  auto flush = [&] {
    if (open && !entry.empty()) out.push_back({entry, time});
    entry.clear();
    open = false;
  };
  for (std::string& text : lines) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (is_timestamp(text)) {
      flush();
      time = text;
      open = true;
      continue;
    }
    if (is_escaped_timestamp(text)) text.erase(0, 1);
    if (!open) {  // before any time line: an entry a line
      if (!text.empty()) out.push_back({text, ""});
      continue;
    }
    if (!entry.empty() || !text.empty()) entry += (entry.empty() ? "" : "\n") + text;
  }
  flush();
  return true;
}

// Reads the file's entries into the history.
void read_history_file(const std::string& path) {
  std::vector<HistoryEntry> entries;
  if (!parse_history_file(path, entries)) return;
  for (const HistoryEntry& e : entries) {
    add_history(e.text.c_str());
    if (!e.time.empty()) add_history_time(e.time.c_str());
  }
}

// An exclusive lock (flock) on the history file, held while an entry is appended or the file trimmed:
// the trim reads the file, then renames the rewritten file onto it, and an entry another session
// appended between the two went to the file the rename replaced, lost. The lock is on the file
// itself (no lock file beside it): a session that waited on the file a trim then replaced takes it
// again on the new one. Where the file cannot be opened (a folder in its place, no permission), or
// the lock does not come within 5 s (a session stopped mid-trim), the history is saved as it was,
// without it: saving an entry never hangs the REPL.
class HistoryLock {
 public:
  explicit HistoryLock(const std::string& path) {
    for (int waited_ms = 0; waited_ms < 5000;) {
      fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);  // its owner's alone, as above
      if (fd_ < 0) return;
      while (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && waited_ms < 5000) {
        if (errno != EWOULDBLOCK && errno != EINTR) break;
        ::usleep(5000);
        waited_ms += 5;
      }
      struct stat held {}, named {};
      if (::fstat(fd_, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
          held.st_ino == named.st_ino)
        return;  // locked, or given up waiting: the file the path names
      ::close(fd_);  // the file a trim replaced while this waited: the lock again, on the new one
      fd_ = -1;
    }
  }
  ~HistoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  HistoryLock(const HistoryLock&) = delete;
  HistoryLock& operator=(const HistoryLock&) = delete;

 private:
  int fd_ = -1;
};

// A hook for tests alone (tests/cpp/test_repl.cpp), to widen the window between the trim's read of the
// file and its rename onto it, where an entry another session appended was lost: with
// SCALELAB_TEST_HISTORY_PAUSE set to a path, the trim makes that file there and waits (10 s at most)
// until the test removes it. Unset, as it is outside the tests, it does nothing.
void pause_for_test(const std::string& history) {
  const char* marker = std::getenv("SCALELAB_TEST_HISTORY_PAUSE");
  if (!marker || !*marker) return;
  if (std::FILE* file = std::fopen(marker, "w")) {
    std::fputs(history.c_str(), file);
    std::fclose(file);
  }
  struct stat info {};
  for (int i = 0; i < 1000 && ::stat(marker, &info) == 0; ++i) ::usleep(10000);
}

// Saves `entry` (the history's newest) to the file: appended, or, once the session's history is past
// `limit` entries, with the file trimmed to its last `kept` entries. The trim reads the file again
// and keeps what it holds, as readline's history_truncate_file does: rewritten from this session's
// own list, it lost every entry another session (sharing HOME) had added since this one started.
// Returns 0, or the errno of what failed.
int save_history_entry(const std::string& path, const HistoryEntry& entry, int limit, int kept) {
  const HistoryLock lock(path);
  if (history_length <= limit) return write_history_file(path, {entry}, true);
  stifle_history(kept);
  unstifle_history();
  std::vector<HistoryEntry> entries;
  // A file that cannot be read (gone since: made again) keeps this entry alone, appended.
  if (!parse_history_file(path, entries)) return write_history_file(path, {entry}, true);
  entries.push_back(entry);
  if (entries.size() <= static_cast<size_t>(kept)) return write_history_file(path, {entry}, true);
  entries.erase(entries.begin(), entries.end() - kept);
  pause_for_test(path);
  return write_history_file(path, entries, false);
}
#endif

// The length of `chunk` up to the end of its last token of code: the blanks and comments after it
// left out ("2; -- note" is "2;"), strings and comments read as Lua reads them (a "--" or a ';' in a
// string is code; a ';' in a comment is not).
size_t code_length(const std::string& chunk) {
  // The level of a long bracket "[==[" opening at `at`, or -1.
  auto long_bracket = [&](size_t at) {
    size_t i = at + 1;
    while (i < chunk.size() && chunk[i] == '=') ++i;
    return i < chunk.size() && chunk[at] == '[' && chunk[i] == '[' ? static_cast<int>(i - at - 1) : -1;
  };
  // Past the long bracket of `level` closing after `from`, or npos.
  auto past_close = [&](size_t from, int level) {
    const std::string close = "]" + std::string(static_cast<size_t>(level), '=') + "]";
    const size_t at = chunk.find(close, from);
    return at == std::string::npos ? at : at + close.size();
  };
  size_t end = 0;
  for (size_t i = 0; i < chunk.size();) {
    const char c = chunk[i];
    if (c == '-' && chunk.compare(i, 2, "--") == 0) {  // a comment, long or to the line's end
      const int level = i + 2 < chunk.size() ? long_bracket(i + 2) : -1;
      i = level >= 0 ? past_close(i + 4 + static_cast<size_t>(level), level) : chunk.find('\n', i);
      if (i == std::string::npos) return end;
      continue;
    }
    if (c == '"' || c == '\'') {  // a short string, its escapes skipped ("\" and a line break goes on)
      size_t j = i + 1;
      while (j < chunk.size() && chunk[j] != c && chunk[j] != '\n') j += chunk[j] == '\\' ? 2 : 1;
      i = end = std::min(j + 1, chunk.size());
      continue;
    }
    if (const int level = long_bracket(i); level >= 0) {  // a long string
      i = past_close(i + 2 + static_cast<size_t>(level), level);
      if (i == std::string::npos) return chunk.size();
      end = i;
      continue;
    }
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') end = i + 1;
    ++i;
  }
  return end;
}

// Whether the chunk's code ends with ';', which silences its values ("x;", "x; -- note"; not
// "x -- no;", whose ';' is in a comment and silenced it).
bool ends_with_semicolon(const std::string& chunk) {
  const size_t end = code_length(chunk);
  return end > 0 && chunk[end - 1] == ';';
}

bool is_blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

// The line without its trailing semicolons (and the blanks and comments around them).
std::string without_semicolons(const std::string& line) {
  size_t end = code_length(line);
  while (end > 0 && (line[end - 1] == ';' || line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r'))
    --end;
  return line.substr(0, end);
}

// The rest of a line that starts with the keyword `return` (the line itself otherwise).
std::string after_return(const std::string& line) {
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line.compare(i, 6, "return") != 0) return line;
  i += 6;
  if (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_')) return line;
  return line.substr(i);
}

// The lines of what one read returned: several when a paste reached readline whole (bracketed
// paste, where a terminal marks pasted text and readline inserts it, line breaks and all, into the
// line Enter then ends). A line break that ends the text ends its last line; it adds no empty one.
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find_first_of("\r\n", start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  if (lines.empty()) lines.emplace_back();
  return lines;
}

// "return <values>" as the arguments of an identity function, compiled: "return f(x)" is a tail
// call, and f's frame would replace the line's, so that an error about f's arguments
// (checks.error_at_user, lua::raise) would find no frame of the user's line to name, as it does in
// a script. As arguments, its values are the same, `...` in it is still the chunk's (none), and
// its frame stays below every function it calls. The closing parenthesis goes on the last line
// (so that errors name the lines typed), or after a newline when that line ends in a comment.
// `before` (statements) comes first. Pushes the function and returns true, or pushes nothing.
bool load_values(lua_State* L, const std::string& before, const std::string& values) {
  const std::string call = before + "return (function(...) return ... end)(" + values;
  for (const char* close : {" )", "\n)"}) {
    const std::string wrapped = call + close;
    if (luaL_loadbuffer(L, wrapped.data(), wrapped.size(), "=stdin") == LUA_OK) return true;
    lua_pop(L, 1);
  }
  return false;
}

// Statements and then an expression, split at a ';': "x = 2; x * 21" compiled as "x = 2; return
// x * 21". The split is at the last ';' (trailing ones aside: they silence the line, "x = 1; x;"
// shows nothing) before which the text compiles alone: one of the chunk's top-level statements
// ends there, and not one in a string, a comment or a block ("while c do f(); g() end" stays a
// loop). Pushes the function and returns true, or pushes nothing.
bool load_with_last_expression(lua_State* L, const std::string& chunk) {
  for (size_t at = chunk.rfind(';'); at != std::string::npos; at = at == 0 ? std::string::npos : chunk.rfind(';', at - 1)) {
    const std::string expression = without_semicolons(chunk.substr(at + 1));
    if (is_blank(expression)) continue;
    const std::string statements = chunk.substr(0, at + 1);
    const bool whole = luaL_loadbuffer(L, statements.data(), statements.size(), "=stdin") == LUA_OK;
    lua_pop(L, 1);
    if (!whole) continue;
    const std::string plain = statements + " return " + expression;
    const bool values = luaL_loadbuffer(L, plain.data(), plain.size(), "=stdin") == LUA_OK;
    lua_pop(L, 1);
    return values && load_values(L, statements + " ", expression);
  }
  return false;
}

// The names that a `local` statement beginning the entry declares ("local a, b = 1, 2": a and b;
// "local function f": f, and *function is set), or none when the entry begins otherwise.
std::vector<std::string> leading_locals(const std::string& chunk, bool* function) {
  std::vector<std::string> names;
  auto skip = [&](size_t at) { return at >= chunk.size() ? std::string::npos : chunk.find_first_not_of(" \t\r\n", at); };
  auto word_at = [&](size_t at) {
    size_t end = at;
    while (end < chunk.size() && (std::isalnum(static_cast<unsigned char>(chunk[end])) || chunk[end] == '_')) ++end;
    return chunk.substr(at, end - at);
  };
  size_t at = skip(0);
  if (at == std::string::npos || word_at(at) != "local") return names;
  at = skip(at + 5);
  *function = at != std::string::npos && word_at(at) == "function";
  if (*function) at = skip(at + 8);
  while (at != std::string::npos) {
    const std::string name = word_at(at);
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) break;
    names.push_back(name);
    at = skip(at + name.size());
    if (*function) break;
    if (at != std::string::npos && chunk[at] == '<') {  // an attribute: local x <const> = 1
      at = chunk.find('>', at);
      at = at == std::string::npos ? at : skip(at + 1);
    }
    if (at == std::string::npos || chunk[at] != ',') break;
    at = skip(at + 1);
  }
  return names;
}

// True when the syntax error on the stack top says the chunk simply ended too early.
bool incomplete(lua_State* L) {
  size_t length = 0;
  const char* message = lua_tolstring(L, -1, &length);
  const char eof[] = "<eof>";
  return message && length >= sizeof eof - 1 &&
         std::strcmp(message + length - (sizeof eof - 1), eof) == 0;
}

}  // namespace

void Host::repl() {
  // At the prompt, Ctrl-C ends the computation in progress and returns here; train.run returns its
  // interrupted result for the user to inspect or resume.
  set_interrupt_ends_script(false);
  const bool terminal = isatty(STDIN_FILENO);
#ifdef SCALELAB_HAVE_READLINE
  const bool use_readline = terminal;
  const std::string history = history_path();
  if (use_readline) {
    g_completion_state = L_;
    rl_readline_name = "scalelab";
    // Readline exported the terminal's size at start as COLUMNS and LINES, which then went stale
    // when the terminal was resized during a computation (its handler is off then): tables, help
    // and figures, which take $COLUMNS first (pretty.columns), kept the old width, and so did every
    // program started from the REPL. Left alone, they ask the terminal itself.
    rl_change_environment = 0;
    rl_catch_signals = 0;
    rl_prep_term_function = prep_terminal;
    rl_bind_key(3, on_ctrl_c);  // Ctrl-C
    rl_bind_key(26, on_ctrl_z);  // Ctrl-Z
    rl_attempted_completion_function = complete;
    rl_basic_word_break_characters = const_cast<char*>(" \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]");
    rl_completer_word_break_characters = rl_basic_word_break_characters;
    using_history();
    // A multi-line entry (a function typed over several prompts) is one entry of the history: the
    // file gets a "#<time>" line before each entry, and on reading, the lines after one belong to
    // its entry, so Up recalls the whole function in the next session too (read_history_file).
    // add_history records each entry's time as "#<time>" when history_comment_char is set.
    history_comment_char = '#';
    if (!history.empty()) {
      read_history_file(history);
    } else {
      std::fprintf(stderr, "scalelab: HOME is not set (or empty), so this session's history will not be saved; set "
                           "HOME to keep it in $HOME/.scalelab_history\n");
      std::fflush(stderr);
    }
  }
#else
  const bool use_readline = false;
#endif
  // The values' printer, loaded now: a line that sets require = nil still sees its values.
  lua_pushcfunction(L_, [](lua_State* L) -> int {
    push_repl_module(L);
    return 0;
  });
  if (lua_pcall(L_, 0, 0, 0) != LUA_OK) lua_pop(L_, 1);  // said again by the first value shown

  struct sigaction action {}, previous {};
  action.sa_handler = on_prompt_sigint;  // no SA_RESTART: select and read return EINTR
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous);

  auto read = [&](const char* prompt, std::string& out) {
#ifdef SCALELAB_HAVE_READLINE
    if (use_readline) return read_readline(prompt, out);
#endif
    return read_plain(prompt, terminal, out);
  };
#ifdef SCALELAB_HAVE_READLINE
  bool history_lost = false;  // said once: the history file cannot be written
#endif
  auto remember = [&](const std::string& entry) {
#ifdef SCALELAB_HAVE_READLINE
    if (use_readline && !is_blank(entry)) {
      // An entry the same as the one before it is not kept again (bash's ignoredups): `x` run five
      // times took five entries, Up stepped through each of them, and the file held them all.
      const HIST_ENTRY* last = history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
      if (last && last->line && entry == last->line) return;
      add_history(entry.c_str());
      if (history.empty()) return;  // no HOME: this session's only (said at the start)
      // Trimmed by entries, not lines: history_truncate_file keeps the last lines, which can cut a
      // multi-line entry so the file starts inside it (and is then read one line per entry).
      // Cut back to 900 once past 1000, so the whole file is rewritten once every 100 entries.
      constexpr int kEntries = 1000, kKept = 900;
      HIST_ENTRY* newest = history_get(history_base + history_length - 1);
      const int error = save_history_entry(
          history, {entry, newest && newest->timestamp ? newest->timestamp : ""}, kEntries, kKept);
      // Up still recalls the session's lines; the next session will not have them: say so, once.
      if (error != 0 && !history_lost) {
        history_lost = true;
        std::fprintf(stderr, "scalelab: the history cannot be saved in %s: %s; this session's lines will not be "
                             "there next time\n", history.c_str(), std::strerror(error));
        std::fflush(stderr);
      }
    }
#else
    (void)entry;
#endif
  };
  // Runs the chunk below its `nargs` arguments on the stack top; prints its values unless silenced.
  // Returns false when Ctrl-C stopped it (or a training run in it): what was pasted after it is dropped.
  bool ran = false;  // the last entry run ended without an error
  auto execute = [&](bool show, int nargs) -> bool {
    const int base = lua_gettop(L_) - nargs;
    ran = false;
    if (call(nargs, LUA_MULTRET) != LUA_OK) {
      const bool stopped = interrupted();
      report(false);
      return !stopped;
    }
    if (terminated()) {  // SIGTERM: the session ends (the loop below leaves), its values unshown
      lua_settop(L_, base - 1);
      return false;
    }
    ran = true;
    // Ctrl-C stopped a training run that returned its result, and the line went on: say so (after
    // the values), as Ctrl-C is said otherwise ("interrupted!"); `r = train.run{...}` shows nothing.
    const bool stopped_run = stopped_by_interrupt();
    const int results = lua_gettop(L_) - base + 1;
    if (show && results > 0) {
      lua_pushcfunction(L_, show_values);
      lua_insert(L_, base);
      g_in_print = false;
      if (call(results, 0) != LUA_OK) {
        if (const char* message = lua_tostring(L_, -1)) {
          std::string cut = without_show_frames(message);
          // The user's print raised (print = error, print = function() error("x") end): said as lua.c
          // says it, with the way back to values shown (a Ctrl-C while print ran is said as any other).
          if (g_in_print && !interrupted()) {
            const size_t frames = std::min(cut.find("\nstack traceback:"), cut.size());
            cut = "error calling 'print' to show the values: " + cut.substr(0, frames) +
                  " (print = nil shows them without it)" + cut.substr(frames);
          }
          lua_pop(L_, 1);
          lua_pushlstring(L_, cut.data(), cut.size());
        }
        g_in_print = false;
        report(false);
      }
    }
    const bool shown_interrupted = interrupted();  // Ctrl-C while the values were printed
    lua_settop(L_, base - 1);
    std::fflush(stdout);
    if (stopped_run) {
      std::fputs("interrupted: Ctrl-C stopped train.run, which returned its result (status \"interrupted\", the "
                 "tokens trained so far; a run given checkpoint = resumes from it when called again)\n", stderr);
      std::fflush(stderr);
    }
    return !stopped_run && !shown_interrupted;
  };

  // `local m = model.gpt{...}` typed as in a script declares m for that entry alone: each entry is a
  // chunk of its own, so m is nil on the next line, and `train.run{ model = m }` then said the model was
  // missing, with nothing to tell why. Said once a session, after the first such entry runs.
  bool local_said = false;
  auto say_local = [&](const std::string& chunk) {
    if (local_said || !ran) return;
    bool function = false;
    const std::vector<std::string> names = leading_locals(chunk, &function);
    if (names.empty()) return;
    local_said = true;
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    std::fprintf(stdout, "(note: local %s ends with this entry, as each entry runs as a chunk of its own; to keep %s, "
                         "leave out local: %s)\n", list.c_str(), names.size() == 1 ? "it" : "them",
                 function ? ("function " + names.front() + "(...) ... end").c_str() : (list + " = ...").c_str());
    std::fflush(stdout);
  };

  std::string pending;
#ifdef SCALELAB_HAVE_READLINE
  g_pending_entry = &pending;  // for Tab (complete): the entry's earlier lines
#endif
  // The lines of a paste after the one being run: each runs in turn as if typed (an expression shows
  // its value, an unfinished statement continues on the next), without a prompt of its own. As one
  // chunk, "1+1\n2+2" was a syntax error and "x = 1\nx" waited for more.
  std::deque<std::string> pasted;
  // Errors name a line of the paste as its line: the chunk of the entry that starts on line n of the
  // paste is compiled after n - 1 empty lines. Each pasted line was compiled alone, so an error in the
  // fifth said "stdin:1:", as the first's did, and nothing told which line had failed. A typed entry
  // is line 1 on, as in lua.c.
  int line_number = 1;  // the line being read: its number in its paste (1 when typed)
  int entry_line = 1;   // the line the entry being read (pending) starts on
  // An error in an entry of a paste stops the paste, as Ctrl-C does: the lines after it are not run,
  // which Up recalls (one history entry), to run again once the error is mended. They ran, each as
  // if typed: the lines that needed what failed failed in turn, or ran without it (the body of a
  // loop whose first line had a syntax error ran once, alone), and a line that began an unfinished
  // statement left the next line typed continuing a chunk of the paste.
  auto stop_paste = [&](int failed_line) {
    std::vector<std::string> rest(pasted.begin(), pasted.end());
    pasted.clear();
    while (!rest.empty() && is_blank(rest.back())) rest.pop_back();
    while (!rest.empty() && is_blank(rest.front())) rest.erase(rest.begin());
    if (rest.empty()) return;
    std::string text;
    for (const std::string& line : rest) text += (text.empty() ? "" : "\n") + line;
    remember(text);
    std::fprintf(stderr, "(the error stopped the paste at its line %d: the %zu line%s after it did not run; Up "
                         "recalls them)\n", failed_line, rest.size(), rest.size() == 1 ? "" : "s");
    std::fflush(stderr);
  };
  // Runs the entry compiled on the stack top; what was pasted after it is dropped when it fails.
  // The entry running, as compiled (its lines numbered as in a paste), in the registry for the study
  // checks, which locate a bad key of a table typed over several lines at the key's line, as in a
  // script (scalelab.study.checks reads a script's file for that).
  auto run_entry = [&](const std::string& chunk, const std::string& numbered) {
    lua_pushlstring(L_, numbered.data(), numbered.size());
    lua_setfield(L_, LUA_REGISTRYINDEX, "scalelab.repl_entry");
    if (!execute(!ends_with_semicolon(chunk), 0)) pasted.clear();
    else if (!ran) stop_paste(line_number);
  };
  for (;;) {
    std::string line;
    if (!pasted.empty()) {
      line = std::move(pasted.front());
      pasted.pop_front();
      ++line_number;
    } else {
      line_number = 1;
      const Read result = read(pending.empty() ? "> " : ">> ", line);
      if (result == Read::Eof && !pending.empty() && terminal) {
        // Ctrl-D on a ">>" prompt drops the unfinished entry, as bash does, instead of ending the
        // session and everything it holds (models, runs, fits); Ctrl-D on "> " leaves. The entry
        // goes to the history, for Up to bring back and finish.
        std::clearerr(stdin);
        remember(pending);
        pending.clear();
        std::fputs("(Ctrl-D: the unfinished entry was dropped; Up recalls it, and Ctrl-D again leaves)\n", stdout);
        continue;
      }
      if (result == Read::Eof && !pending.empty()) {
        // Standard input that is no terminal (scalelab -i < session.lua) ended inside an entry: its
        // syntax error, as lua.c reports it ("'end' expected ... near <eof>"). The entry was dropped
        // without a word, and the function it defined was silently missing.
        if (luaL_loadbuffer(L_, pending.data(), pending.size(), "=stdin") != LUA_OK) {
          report(false);
        } else {
          lua_pop(L_, 1);
        }
        break;
      }
      if (result == Read::Eof) break;
      // Ctrl-C at the prompt clears the line (and drops an unfinished entry), as in bash and
      // python, and never leaves: a second one on an empty prompt ended the session, and with it
      // every model, run and fit it held, when a Ctrl-C meant for a computation came just after it
      // had finished (the first said the way out, the second took it).
      // On ">>" the unfinished entry, with the line Ctrl-C cleared, goes to the history, as Ctrl-D
      // there keeps it, for Up to bring back: a function typed over many lines was lost whole.
      if (result == Read::Interrupted || result == Read::InterruptedEmpty) {
        if (!pending.empty()) {
          remember(is_blank(line) ? pending : pending + "\n" + line);
          std::fputs("(Ctrl-C: the unfinished entry was dropped; Up recalls it)\n", stdout);
        } else if (result == Read::InterruptedEmpty) {
          std::fputs("(to leave, press Ctrl-D or type os.exit())\n", stdout);
        }
        pending.clear();
        continue;
      }
      if (line.find_first_of("\r\n") != std::string::npos) {
        std::vector<std::string> lines = split_lines(line);
        line = std::move(lines.front());
        pasted.insert(pasted.end(), std::make_move_iterator(lines.begin() + 1), std::make_move_iterator(lines.end()));
      }
    }
    if (pending.empty() && is_blank(line)) continue;
    if (pending.empty()) entry_line = line_number;
    const std::string chunk = pending.empty() ? line : pending + "\n" + line;
    const std::string before(static_cast<size_t>(entry_line - 1), '\n');  // compiled before the chunk
    const std::string numbered = before + chunk;
    // An expression first, whole (over every line typed so far): its values are printed. "return
    // <values>" typed out is the same expression.
    const std::string values = after_return(chunk);
    const std::string expression = before + "return " + values;
    if (luaL_loadbuffer(L_, expression.data(), expression.size(), "=stdin") == LUA_OK) {
      if (load_values(L_, before, without_semicolons(values))) lua_remove(L_, -2);  // else runs as "return ..."
      pending.clear();
      remember(chunk);
      run_entry(chunk, numbered);
      if (terminated()) break;
      continue;
    }
    const bool expression_incomplete = incomplete(L_);
    lua_pop(L_, 1);
    // Statements, then an expression after the last ';' ("x = 2; x * 21", "f(); g()"): the
    // statements run and the expression's values print, as a notebook shows a cell's last value.
    // Without this, "x = 1; x" waited on ">>" for more (a statement cannot end in "x"), as in lua.c.
    if (load_with_last_expression(L_, numbered)) {
      pending.clear();
      remember(chunk);
      run_entry(chunk, numbered);
      if (terminated()) break;
      say_local(chunk);
      continue;
    }
    // Else statements. Either form ending too early asks for more: "x = 1 +" as a statement, "1 +"
    // as an expression.
    const int status = luaL_loadbuffer(L_, numbered.data(), numbered.size(), "=stdin");
    if (status == LUA_ERRSYNTAX && (incomplete(L_) || expression_incomplete)) {
      lua_pop(L_, 1);
      pending = chunk;
      continue;
    }
    pending.clear();
    remember(chunk);
    if (status != LUA_OK) {
      if (status == LUA_ERRSYNTAX) explain_non_ascii(L_, numbered);
      report(false);
      stop_paste(line_number);
      continue;
    }
    run_entry(chunk, numbered);
    if (terminated()) break;
    say_local(chunk);
  }
#ifdef SCALELAB_HAVE_READLINE
  g_pending_entry = nullptr;
#endif
  sigaction(SIGINT, &previous, nullptr);
}

}  // namespace scalelab::host

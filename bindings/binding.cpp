#include "bindings/binding.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "core/units.h"

namespace scalelab::lua {

namespace {
const char kDocs[] = "scalelab.docs";

int view_next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

// __pairs of a read-only view: the entries of the table it shows.
int view_pairs(lua_State* L) {
  lua_pushcfunction(L, view_next);
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_remove(L, -2);
  lua_pushnil(L);
  return 3;
}

// __len of a read-only view: the length of the table it shows (#law.samples).
int view_len(lua_State* L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, -1)));
  return 1;
}

}  // namespace

void push_read_only_view(lua_State* L, int table, lua_CFunction refusal, int upvalues) {
  table = lua_absindex(L, table);
  lua_pushcclosure(L, refusal, upvalues);
  const int refused = lua_gettop(L);
  lua_newtable(L);                 // the view: empty, so that every assignment reaches __newindex
  lua_createtable(L, 0, 6);        // its metatable
  lua_pushvalue(L, table);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, table);
  lua_setfield(L, -2, "__read_only_view");
  lua_pushvalue(L, refused);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, view_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushcfunction(L, view_len);
  lua_setfield(L, -2, "__len");
  lua_setmetatable(L, -2);
  lua_remove(L, refused);
}

std::string assigned_key(lua_State* L, int key) {
  if (lua_type(L, key) == LUA_TSTRING) return std::string(".") + lua_tostring(L, key);
  if (lua_type(L, key) == LUA_TNUMBER) {
    size_t length = 0;
    const char* text = luaL_tolstring(L, key, &length);
    std::string out = "[" + std::string(text, length) + "]";
    lua_pop(L, 1);
    return out;
  }
  return "[...]";
}

std::string assigned_value(lua_State* L, int value) {
  if (lua_type(L, value) != LUA_TNUMBER) return "...";
  size_t length = 0;
  const char* text = luaL_tolstring(L, value, &length);
  std::string out(text, length);
  lua_pop(L, 1);
  return out;
}

void unwrap_read_only_view(lua_State* L, int index) {
  index = lua_absindex(L, index);
  if (!lua_istable(L, index) || !lua_getmetatable(L, index)) return;
  if (lua_getfield(L, -1, "__read_only_view") == LUA_TTABLE) {
    lua_replace(L, index);
    lua_pop(L, 1);
  } else {
    lua_pop(L, 2);
  }
}

bool library_source(const char* source) {
  if (std::strncmp(source, "@stdlib/scalelab/", 17) == 0) return true;
  // Compared in place, allocating nothing: raise() calls this outside bound's try, where a
  // std::bad_alloc would cross into Lua.
  if (const char* root = std::getenv("SCALELAB_STDLIB"); root && *root && source[0] == '@') {
    const size_t n = std::strlen(root);
    if (std::strncmp(source + 1, root, n) == 0 && std::strncmp(source + 1 + n, "/scalelab/", 10) == 0) return true;
  }
  return false;
}

namespace {

// True for frames of scalelab's own Lua library and of C functions.
bool library_frame(const lua_Debug& ar) {
  return std::strcmp(ar.what, "C") == 0 || library_source(ar.source);
}

// Pushes "file:line: " of the user's code that led to this call: the first frame above us outside
// the library (an error in the arguments a library function passed on is the user's argument), or
// of the direct caller when every frame is the library's.
void push_where(lua_State* L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (library_frame(ar) || ar.currentline <= 0) continue;
    lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
    return;
  }
  luaL_where(L, 1);  // "file:line: " of the Lua code that called us, or "" if that is C
}

}  // namespace

void raise(lua_State* L, const char* message) {
  push_where(L);
  lua_pushstring(L, message);
  lua_concat(L, 2);
  lua_error(L);
  std::terminate();  // lua_error does not return
}

void push_weak_keyed(lua_State* L, const char* key) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
  }
}

void push_docs(lua_State* L) { push_weak_keyed(L, kDocs); }

namespace {

std::string short_name(const char* type_name) {
  const char* dot = std::strrchr(type_name, '.');
  return dot ? dot + 1 : type_name;
}

// __index of bound objects: upvalue 1 = methods, 2 = property getters, 3 = type name.
int object_index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  }
  lua_pop(L, 1);
  const char* key = lua_tostring(L, 2);
  std::vector<std::string> names;
  for (int table = 1; table <= 2; ++table) {
    lua_pushnil(L);
    while (lua_next(L, lua_upvalueindex(table))) {
      if (lua_type(L, -2) == LUA_TSTRING) names.emplace_back(lua_tostring(L, -2));
      lua_pop(L, 1);
    }
  }
  std::string message = str(short_name(lua_tostring(L, lua_upvalueindex(3))), " has no field '",
                            key ? key : luaL_typename(L, 2), "'");
  std::string suggestion = key ? closest_name(key, names) : "";
  if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
  throw Error(message);
}

// __newindex of bound objects (upvalues as object_index's): objects are read-only. An assignment to
// one raised Lua's own "attempt to index a Corpus value (local 'corpus')", which named neither the
// field nor that nothing of an object can be set.
int object_newindex(lua_State* L) {
  const std::string type = short_name(lua_tostring(L, lua_upvalueindex(3)));
  const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : nullptr;
  std::vector<std::string> names;
  bool known = false;
  for (int table = 1; table <= 2; ++table) {
    lua_pushnil(L);
    while (lua_next(L, lua_upvalueindex(table))) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        names.emplace_back(lua_tostring(L, -2));
        if (key && names.back() == key) known = true;
      }
      lua_pop(L, 1);
    }
  }
  if (known)
    throw Error(str(type, ".", key, " cannot be set: a ", type, "'s fields are read-only (make a new ", type,
                    " with what you want changed)"));
  std::string message = str(type, " has no field '", key ? key : luaL_typename(L, 2), "' to set");
  const std::string suggestion = key ? closest_name(key, names) : "";
  if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'? (it is read-only)";
  message += str("; a ", type, "'s fields are read-only: keep values of your own in a table of your own");
  throw Error(message);
}

}  // namespace

void document(lua_State* L, int index, const char* text) {
  index = lua_absindex(L, index);
  push_docs(L);
  lua_pushvalue(L, index);
  lua_pushstring(L, text);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

void new_module(lua_State* L, const char* doc, const std::vector<Function>& functions) {
  lua_createtable(L, 0, static_cast<int>(functions.size()));
  for (const auto& f : functions) {
    lua_pushcfunction(L, f.function);
    if (f.doc) document(L, -1, f.doc);
    lua_setfield(L, -2, f.name);
  }
  if (doc) document(L, -1, doc);
}

namespace {

const char kDestroyed[] = "scalelab.destroyed";

// The type a destroyed object had ("Store"): its user value holds its former metatable.
std::string destroyed_type(lua_State* L, int index) {
  std::string type = "object";
  if (lua_getiuservalue(L, index, 1) == LUA_TTABLE) {
    if (lua_getfield(L, -1, "__name") == LUA_TSTRING) type = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return type;
}

std::string destroyed_message(lua_State* L, int index) {
  return destroyed_type(L, index) + " was destroyed (its __gc metamethod was called); make a new one";
}

int destroyed_index(lua_State* L) {
  const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : nullptr;
  throw Error(str("cannot read '", key ? key : luaL_typename(L, 2), "': this ", destroyed_message(L, 1)));
}

int destroyed_tostring(lua_State* L) {
  const std::string text = destroyed_type(L, 1) + " (destroyed)";
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

// The metatable of destroyed objects: created with the first class, so that marking one in __gc
// allocates nothing.
void register_destroyed(lua_State* L) {
  if (!luaL_newmetatable(L, kDestroyed)) {
    lua_pop(L, 1);
    return;
  }
  lua_pushliteral(L, "destroyed object");
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, bound<destroyed_index>);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, bound<destroyed_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

}  // namespace

namespace detail {

void mark_destroyed(lua_State* L, int index, const char* name) {
  index = lua_absindex(L, index);
  luaL_getmetatable(L, name);
  lua_setiuservalue(L, index, 1);
  luaL_getmetatable(L, kDestroyed);
  lua_setmetatable(L, index);
}

void register_class(lua_State* L, const char* name, const char* doc, lua_CFunction gc,
                    lua_CFunction tostring, const std::vector<Function>& methods,
                    const std::vector<Function>& properties) {
  register_destroyed(L);
  if (!luaL_newmetatable(L, name)) {  // already registered
    lua_pop(L, 1);
    return;
  }
  const int metatable = lua_gettop(L);
  lua_pushcfunction(L, gc);
  lua_setfield(L, metatable, "__gc");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, metatable, "__tostring");
  lua_pushstring(L, short_name(name).c_str());
  lua_setfield(L, metatable, "__name");
  // __what: the type in the user's words, for argument errors: the documentation's first clause
  // (up to ": " or ". "), "A scaling law" → "a scaling law".
  std::string what = doc ? doc : short_name(name);
  what = what.substr(0, std::min(what.find(": "), what.find(". ")));
  if (what.rfind("A ", 0) == 0 || what.rfind("An ", 0) == 0 || what.rfind("The ", 0) == 0) what[0] = static_cast<char>(what[0] - 'A' + 'a');
  lua_pushstring(L, what.c_str());
  lua_setfield(L, metatable, "__what");
  // Methods and properties are also kept on the metatable (__methods, __properties) so that the
  // REPL can complete them and help() can list them.
  lua_newtable(L);
  for (const auto& m : methods) {
    lua_pushcfunction(L, m.function);
    if (m.doc) document(L, -1, m.doc);
    lua_setfield(L, -2, m.name);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, metatable, "__methods");
  lua_newtable(L);
  for (const auto& p : properties) {
    lua_pushcfunction(L, p.function);
    if (p.doc) document(L, -1, p.doc);
    lua_setfield(L, -2, p.name);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, metatable, "__properties");
  lua_pushstring(L, name);
  lua_pushcclosure(L, bound<object_index>, 3);
  lua_setfield(L, metatable, "__index");
  lua_getfield(L, metatable, "__methods");
  lua_getfield(L, metatable, "__properties");
  lua_pushstring(L, name);
  lua_pushcclosure(L, bound<object_newindex>, 3);
  lua_setfield(L, metatable, "__newindex");
  if (doc) document(L, metatable, doc);
  lua_pop(L, 1);
}

namespace {

// The name users call the running bound function by: the head of its documentation
// ("fit.chinchilla(obs [, options]) -> law" gives "fit.chinchilla"), else the name Lua knows it by.
std::string running_function(lua_State* L) {
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar)) return "";
  lua_getinfo(L, "nf", &ar);  // pushes the function
  push_docs(L);
  lua_pushvalue(L, -2);
  lua_rawget(L, -2);
  std::string name;
  if (const char* doc = lua_tostring(L, -1)) {
    name = doc;
    name = name.substr(0, name.find_first_of("({ "));
  }
  lua_pop(L, 3);
  if (name.empty() && ar.name) name = ar.name;
  return name;
}

}  // namespace

void* check_object(lua_State* L, int index, const char* name) {
  void* object = luaL_testudata(L, index, name);
  if (!object && luaL_testudata(L, index, kDestroyed)) {
    const std::string function = running_function(L);
    throw Error(str(function.empty() ? "" : function + ": ", "argument #", index, ": this ", destroyed_message(L, index)));
  }
  if (!object) {
    // What the type is in the user's words: the head of its class documentation, e.g. "A scaling
    // law", "Observations (fit.observations{...} or fit.read_csv(path))".
    std::string what = short_name(name);
    luaL_getmetatable(L, name);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "__what");
      if (const char* w = lua_tostring(L, -1)) what = w;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    const std::string function = running_function(L);
    // What it got: another object by its type's name (a Law where a Store belongs), else the Lua type.
    const std::string got = type_name(L, index);
    // A method called with a dot (law.predict{...}) gets its first argument where self belongs.
    std::string hint;
    const size_t colon = function.find(':');
    if (index == 1 && colon != std::string::npos && !lua_isuserdata(L, index))
      hint = str("; call the method with a colon: ", function, "(...), not ", function.substr(0, colon), ".",
                 function.substr(colon + 1), "(...)");
    throw Error(str(function.empty() ? "" : function + ": ", "argument #", index, " must be ", what, ", got ", got,
                    hint));
  }
  return object;
}

}  // namespace detail

std::string type_name(lua_State* L, int index) {
  if (lua_isnoneornil(L, index)) return "nothing";
  std::string name = luaL_typename(L, index);
  if (luaL_getmetafield(L, index, "__name") != LUA_TNIL) {
    if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  return name;
}

std::string got_type(lua_State* L, int index) {
  return lua_isnoneornil(L, index) ? std::string(luaL_typename(L, index)) : type_name(L, index);
}

// ---- Args ---------------------------------------------------------------------------------------

namespace {
// The calling form Args names when its value is not a table: see Args::Args. It said function{ key =
// ... } whatever the table's place, a form that fails for store:text(format, { study = ... }).
std::string calling_form(const std::string& function, int index, const std::vector<std::string>& keys) {
  const std::string table = "{ " + (keys.empty() ? std::string("key") : keys[0]) + " = ... }";
  if (index < 0) return table;  // a table inside an argument
  const size_t colon = function.find(':');
  const bool method = colon != std::string::npos && colon + 1 < function.size() && function[colon + 1] != ' ';
  const int position = method ? index - 1 : index;
  if (position <= 1) return function + table;
  std::string before;
  for (int i = 1; i < position; ++i) before += "..., ";
  return function + "(" + before + table + ")";
}
}  // namespace

Args::Args(lua_State* L, int index, std::string function, std::vector<std::string> keys, std::string form)
    : L_(L), index_(lua_absindex(L, index)), function_(std::move(function)), keys_(std::move(keys)) {
  if (!lua_istable(L, index_))
    fail(function_, " expects a table of named arguments, like ",
         form.empty() ? calling_form(function_, index, keys_) : form, "; got ", type_name(L, index_));
  lua_pushnil(L);
  while (lua_next(L, index_)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      fail(function_, ": arguments are named (key = value); found a positional value");
    }
    std::string key = lua_tostring(L, -1);
    bool known = false;
    for (const auto& k : keys_) known = known || k == key;
    if (!known) {
      lua_pop(L, 1);
      std::string suggestion = closest_name(key, keys_);
      std::string valid;
      for (const auto& k : keys_) valid += (valid.empty() ? "" : ", ") + k;
      fail(function_, ": unknown key '", key, "'",
           suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?",
           " (valid keys: ", valid, ")");
    }
  }
}

int Args::push(const char* key) const { return lua_getfield(L_, index_, key); }

bool Args::has(const char* key) const {
  bool present = push(key) != LUA_TNIL;
  lua_pop(L_, 1);
  return present;
}

void Args::type_error(const char* key, const char* expected) const {
  push(key);
  // By its type's name: "lr must be a number (got userdata)" did not say that a Law or a Store was passed.
  std::string got = got_type(L_, -1);
  lua_pop(L_, 1);
  fail(function_, ": ", key, " must be ", expected, " (got ", got, ")");
}

double Args::number(const char* key) const {
  if (!has(key)) fail(function_, ": missing required key '", key, "'");
  return number(key, 0);
}

double Args::number(const char* key, double fallback) const {
  int type = push(key);
  if (type == LUA_TNIL) {
    lua_pop(L_, 1);
    return fallback;
  }
  if (type != LUA_TNUMBER) {
    // A number in quotes (compute = "1e21") was refused as "must be a number (got string)", leaving
    // the user to see why: say how to write it.
    const std::string quoted = quoted_number(L_, -1);
    lua_pop(L_, 1);
    if (!quoted.empty())
      fail(function_, ": ", key, " must be a number (got string); write it without quotes: ", key, " = ",
           quoted);
    type_error(key, "a number");
  }
  double value = lua_tonumber(L_, -1);
  lua_pop(L_, 1);
  // NaN prints as "nan" whatever its sign (the stream would say "-nan" for 0/0).
  if (!std::isfinite(value)) fail(function_, ": ", key, " must be a finite number (got ", format_number(value, 6), ")");
  return value;
}

int64_t Args::integer(const char* key) const {
  if (!has(key)) fail(function_, ": missing required key '", key, "'");
  return integer(key, 0);
}

int64_t Args::integer(const char* key, int64_t fallback) const {
  if (!has(key)) return fallback;
  double value = number(key, 0);
  if (value != std::floor(value)) fail(function_, ": ", key, " must be an integer (got ", format_number(value, 10), ")");
  // Beyond 2^53 a number no longer holds every integer exactly: too large, not "not an integer".
  if (std::fabs(value) > 9.007199254740992e15)
    fail(function_, ": ", key, " = ", format_number(value, 10), " is too large: give an integer in [-9007199254740992, 9007199254740992] "
         "(±2^53, the integers a number holds exactly)");
  return static_cast<int64_t>(value);
}

int64_t Args::in_range(const char* key, int64_t fallback, int64_t min, int64_t max) const {
  const int64_t value = integer(key, fallback);
  if (value < min || value > max) fail(function_, ": ", key, " = ", value, " is outside [", min, ", ", max, "]");
  return value;
}

int Args::int_value(const char* key, int fallback) const {
  return static_cast<int>(in_range(key, fallback, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

unsigned Args::unsigned_value(const char* key, unsigned fallback) const {
  return static_cast<unsigned>(in_range(key, fallback, 0, std::numeric_limits<unsigned>::max()));
}

int64_t Args::count(const char* key, int64_t fallback, int64_t min, const char* what, bool round_down) const {
  if (!has(key)) return fallback;
  return checked_count(key, min, what, round_down, true);
}

int64_t Args::count(const char* key, int64_t min, const char* what) const {
  if (!has(key)) fail(function_, ": missing required key '", key, "' (", what, ")");
  return checked_count(key, min, what, false, false);
}

int64_t Args::checked_count(const char* key, int64_t min, const char* what, bool round_down,
                            bool has_default) const {
  double value = number(key, 0);  // finite, or an error
  if (round_down && value >= 1) value = std::floor(value);
  if (value != std::floor(value))
    fail(function_, ": ", key, " (", what, ") must be a whole number (got ", format_number(value, 10), ")");
  if (value < static_cast<double>(min))
    fail(function_, ": ", key, " (", what, ") must be >= ", min, " (got ", format_number(value, 10), ")",
         has_default && min > 0 ? "; leave it out for the default" : "");
  if (value >= 9.2e18)  // 2^63 ≈ 9.22e18: the largest int64 and a margin for the double's rounding
    fail(function_, ": ", key, " = ", format_number(value, 10), " is beyond the largest count scalelab handles (9.2e18)");
  return static_cast<int64_t>(value);
}

std::string Args::string(const char* key) const {
  if (!has(key)) fail(function_, ": missing required key '", key, "'");
  return string(key, "");
}

std::string Args::string(const char* key, const std::string& fallback) const {
  int type = push(key);
  if (type == LUA_TNIL) {
    lua_pop(L_, 1);
    return fallback;
  }
  if (type != LUA_TSTRING) {
    lua_pop(L_, 1);
    type_error(key, "a string");
  }
  size_t length = 0;
  const char* text = lua_tolstring(L_, -1, &length);
  std::string value(text, length);
  lua_pop(L_, 1);
  return value;
}

bool Args::boolean(const char* key, bool fallback) const {
  int type = push(key);
  lua_pop(L_, 1);
  if (type == LUA_TNIL) return fallback;
  if (type != LUA_TBOOLEAN) type_error(key, "true or false");
  push(key);
  bool value = lua_toboolean(L_, -1);
  lua_pop(L_, 1);
  return value;
}

std::vector<double> Args::numbers(const char* key) const {
  // On an error the Lua stack is discarded with the call, so no pop is needed on that path.
  push(key);
  std::vector<double> values = to_numbers(L_, -1, function_ + ": " + key);
  lua_pop(L_, 1);
  return values;
}

std::vector<double> to_numbers(lua_State* L, int index, const std::string& what) {
  index = lua_absindex(L, index);
  if (!lua_istable(L, index)) fail(what, " must be an array of numbers (got ", got_type(L, index), ")");
  const lua_Integer n = luaL_len(L, index);
  std::vector<double> values;
  values.reserve(static_cast<size_t>(n));
  for (lua_Integer i = 1; i <= n; ++i) {
    int type = lua_geti(L, index, i);
    double value = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (type != LUA_TNUMBER) {
      lua_geti(L, index, i);
      const std::string quoted = quoted_number(L, -1);
      if (!quoted.empty()) {
        // `what` is "function: key": the hint names the element as the user writes it, key[i] = value.
        const size_t colon = what.rfind(": ");
        fail(what, "[", i, "] must be a number (got string); write it without quotes: ",
             colon == std::string::npos ? what : what.substr(colon + 2), "[", i, "] = ", quoted);
      }
      fail(what, "[", i, "] must be a number (got ", lua_typename(L, type), ")");
    }
    values.push_back(value);
  }
  return values;
}

std::string quoted_number(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TSTRING) return "";
  std::string text = lua_tostring(L, index);
  const size_t first = text.find_first_not_of(" \t\n\r"), last = text.find_last_not_of(" \t\n\r");
  text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  if (text.empty() || lua_stringtonumber(L, text.c_str()) == 0) return "";
  lua_pop(L, 1);  // the number lua_stringtonumber pushed
  return text;
}

void push_numbers(lua_State* L, const std::vector<double>& values) {
  lua_createtable(L, static_cast<int>(values.size()), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    lua_pushnumber(L, values[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

void push_strings(lua_State* L, const std::vector<std::string>& values) {
  lua_createtable(L, static_cast<int>(values.size()), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    lua_pushlstring(L, values[i].data(), values[i].size());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

void set_number(lua_State* L, const char* key, double value) {
  if (std::isnan(value)) return;
  lua_pushnumber(L, value);
  lua_setfield(L, -2, key);
}

void set_integer(lua_State* L, const char* key, int64_t value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, key);
}

void set_boolean(lua_State* L, const char* key, bool value) {
  lua_pushboolean(L, value);
  lua_setfield(L, -2, key);
}

namespace {
thread_local lua_State* t_calling = nullptr;
}  // namespace

lua_State* calling_thread() { return t_calling; }
CallingThread::CallingThread(lua_State* L) : previous_(t_calling) { t_calling = L; }
CallingThread::~CallingThread() { t_calling = previous_; }

void push_out_of_memory(lua_State* L) {
  // No allocation of ours may be needed here: a failed one leaves little. Lua's own strings come
  // from its allocator, which may still have room for a short message.
  std::string function;
  try {
    function = detail::running_function(L);
  } catch (...) {
  }
  lua_pushfstring(L, "%s%sout of memory: what was asked for needs more memory than this machine (or the process's "
                  "limit, ulimit -v) gives; ask for less: a smaller batch, seq_len, model or data",
                  function.c_str(), function.empty() ? "" : ": ");
}

}  // namespace scalelab::lua

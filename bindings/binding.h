// The one boundary between Lua and C++.
//
// Every C++ function bound to Lua is registered as scalelab::lua::bound<F>: it runs F and turns any
// std::exception it throws into a Lua error that carries the message and the caller's file:line.
// F's C++ frames are unwound normally before the Lua error is raised, so destructors run and
// nothing leaks. Lua's own errors (luaL_checkinteger, lua_call of a failing callback, ...) are C++
// exceptions too in the C++ build of Lua that we link (lua5.4-c++), so they also unwind C++
// frames. They are NOT caught here: catch (...) would swallow them. Never write catch (...) in code
// that runs under a Lua call.
//
// Objects: a C++ value lives inside a Lua full userdata (push<T>), with a metatable registered once
// by Class<T>: methods, read-only properties, __tostring from T's Summary(), __gc that runs ~T().
// Unknown fields are errors that suggest the nearest name.
//
// Arguments: model.gpt{ vocab = 256, ... } style tables are read through Args, which rejects
// unknown keys (suggesting the nearest valid one) and wrong types, naming the function and key.
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"

namespace scalelab::lua {

// A read-only view of `table` (at its index, absolute or not): an empty table whose reads, length,
// pairs and printing show `table`'s entries and whose assignments raise `refusal(key, value)`
// (law.params, law.samples: a change to it would change nothing). With `upvalues` > 0, the refusal
// is a closure of the values on top of the stack (popped; `table` must lie below them), such as the
// index of a row in a list of views. Pushed on the stack.
void push_read_only_view(lua_State* L, int table, lua_CFunction refusal, int upvalues = 0);
// What an assignment that a view's refusal refuses wrote, for its message: `key` as it followed the
// table (".alpha", "[3]") and `value` as written (a number's text, else "...").
std::string assigned_key(lua_State* L, int key);
std::string assigned_value(lua_State* L, int value);
// Where the value at `index` is such a view, replaces it there by the table it shows: C++ that reads a
// table with lua_next (which sees no entries in a view) calls this first.
void unwrap_read_only_view(lua_State* L, int index);

// Raises the Lua error `message`, prefixed with the position of the Lua code that called the
// running C function. Like every Lua error in the C++ build, it unwinds C++ frames (destructors run).
[[noreturn]] void raise(lua_State* L, const char* message);
// Pushes what an allocation that failed inside a library function says: its name, and what to ask for.
void push_out_of_memory(lua_State* L);

// True when a Lua chunk named `source` (lua_Debug's source) is scalelab's own library: embedded as
// "@stdlib/scalelab/...", or read from "@$SCALELAB_STDLIB/scalelab/...". Errors skip such frames to
// name the user's line; the stdlib's checks use the same rule (core.library_source).
bool library_source(const char* source);

// True when the function at `index` is one that core.keep_caller made to call a library function
// written in Lua (bindings/core.cpp): a traceback names it as that library function.
bool keeps_caller(lua_State* L, int index);

// The Lua thread (coroutine or main) whose call into a bound function is running on this OS thread,
// or null: a Lua callback that C++ calls back (a custom law's predict) runs on it, not on the main
// thread, so that its errors unwind the coroutine that called.
lua_State* calling_thread();
class CallingThread {
 public:
  explicit CallingThread(lua_State* L);
  ~CallingThread();
  CallingThread(const CallingThread&) = delete;
  CallingThread& operator=(const CallingThread&) = delete;

 private:
  lua_State* previous_;
};

// The error boundary. Register every C++ function as bound<F>.
template <int (*F)(lua_State*)>
int bound(lua_State* L) {
  // The message is copied into Lua before lua_error, so no C++ object outlives the catch block.
  bool failed = false;
  try {
    CallingThread calling(L);
    return F(L);
  } catch (const std::bad_alloc&) {
    push_out_of_memory(L);
    failed = true;
  } catch (const std::exception& e) {
    lua_pushstring(L, e.what());
    failed = true;
  }
  if (failed) raise(L, lua_tostring(L, -1));
  return 0;
}

// ---- Documentation, read by help(x) -----------------------------------------------------------
// Attaches `text` to the value at `index` (function, table or metatable) in the registry's weak
// table "scalelab.docs".
void document(lua_State* L, int index, const char* text);
// Pushes that table (creating it on first use).
void push_docs(lua_State* L);
// Pushes the registry's table at `key`, weak in its keys (objects -> what is kept for them while they
// live), made the first time.
void push_weak_keyed(lua_State* L, const char* key);

struct Function {
  const char* name;
  lua_CFunction function;  // bound<F>
  const char* doc;
};

// Creates a module table with the given functions (each documented) and documents the table.
void new_module(lua_State* L, const char* doc, const std::vector<Function>& functions);

// ---- Objects ------------------------------------------------------------------------------------
// Specialise TypeName<T> for each bound type: template <> struct TypeName<Foo> { static constexpr
// const char* value = "scalelab.Foo"; };  The short name after the dot is what users see.
template <class T>
struct TypeName;

namespace detail {
void register_class(lua_State* L, const char* name, const char* doc, lua_CFunction gc,
                    lua_CFunction tostring, const std::vector<Function>& methods,
                    const std::vector<Function>& properties);
void* check_object(lua_State* L, int index, const char* name);
// After ~T() (a __gc call): the userdata at `index` no longer holds a T, and says so. It gets the
// metatable of destroyed objects (registered with the first class), which names its former type in
// every use and has no __gc. Without it, a __gc called directly (getmetatable(x).__gc(x)) left an
// object whose methods ran on freed memory, and whose next __gc destroyed it a second time.
void mark_destroyed(lua_State* L, int index, const char* name);
}  // namespace detail

template <class T>
T& check(lua_State* L, int index) {
  return *static_cast<T*>(detail::check_object(L, index, TypeName<T>::value));
}

template <class T>
T* test(lua_State* L, int index) {
  return static_cast<T*>(luaL_testudata(L, index, TypeName<T>::value));
}

// Moves or copies `value` into a new userdata with T's metatable, leaves it on the stack.
template <class T>
T& push(lua_State* L, T value) {
  void* memory = lua_newuserdatauv(L, sizeof(T), 1);
  // If the constructor throws, the userdata has no metatable yet and no __gc runs: correct.
  T* object = new (memory) T(std::move(value));
  luaL_setmetatable(L, TypeName<T>::value);
  return *object;
}

template <class T>
struct Class {
  // Registers T's metatable. T needs a Summary() const returning std::string.
  static void define(lua_State* L, const char* doc, const std::vector<Function>& methods,
                     const std::vector<Function>& properties) {
    detail::register_class(L, TypeName<T>::value, doc, &bound<gc>, &bound<tostring>, methods,
                           properties);
  }

 private:
  static int gc(lua_State* L) {
    if (T* object = test<T>(L, 1)) {
      object->~T();
      detail::mark_destroyed(L, 1, TypeName<T>::value);
    }
    return 0;
  }
  static int tostring(lua_State* L) {
    std::string text = check<T>(L, 1).Summary();
    lua_pushlstring(L, text.data(), text.size());
    return 1;
  }
};

// ---- Argument tables ----------------------------------------------------------------------------
class Args {
 public:
  // Checks that the value at `index` is a table whose string keys are all in `keys`. `form` is the
  // function's calling form, shown when the value is not a table ("store:text(format [, { study =,
  // status = }])"); left out, it is made from `function` and `index`: function{ key = ... } for the
  // first argument (a method's first after self: `function` has a ':'), function(..., { key = ... })
  // for a later one, { key = ... } for a table inside an argument (a negative `index`).
  Args(lua_State* L, int index, std::string function, std::vector<std::string> keys, std::string form = {});

  bool has(const char* key) const;
  double number(const char* key) const;
  double number(const char* key, double fallback) const;
  int64_t integer(const char* key) const;
  int64_t integer(const char* key, int64_t fallback) const;
  // integer() for a C++ int or unsigned: a value outside its range is an error naming the key and the
  // range, where a static_cast wrapped it silently (order = 2^32 + 1 read as 1, seed = 2^32 + 1 as 1,
  // bootstrap = 2^32 as none).
  int int_value(const char* key, int fallback) const;
  unsigned unsigned_value(const char* key, unsigned fallback) const;
  // A count (tokens, steps, rows, a seed) given as a Lua number, 1e9 included: a whole number in
  // [min, 2^63), else an error naming the key, `what` it counts and the range. Absent: fallback.
  // round_down: a fraction (a computed token budget, 2.5e9 / 3) is dropped rather than refused.
  int64_t count(const char* key, int64_t fallback, int64_t min, const char* what, bool round_down = false) const;
  // The same, required: absent is an error naming the key and what it counts.
  int64_t count(const char* key, int64_t min, const char* what) const;
  std::string string(const char* key) const;
  std::string string(const char* key, const std::string& fallback) const;
  bool boolean(const char* key, bool fallback) const;
  std::vector<double> numbers(const char* key) const;  // a Lua array of numbers
  // Pushes the field's value (possibly nil) and returns its Lua type.
  int push(const char* key) const;

  const std::string& function() const { return function_; }
  [[noreturn]] void type_error(const char* key, const char* expected) const;

 private:
  int64_t checked_count(const char* key, int64_t min, const char* what, bool round_down, bool has_default) const;
  int64_t in_range(const char* key, int64_t fallback, int64_t min, int64_t max) const;

  lua_State* L_;
  int index_;
  std::string function_;
  std::vector<std::string> keys_;
};

// What the value at `index` is, for "got ..." in argument errors: a bound object or a library
// object by its type's name (__name: "Law", "Store", "Sweep"), "nothing" for none or nil, else its
// Lua type.
std::string type_name(lua_State* L, int index);
// The same for "(got ...)" where nil is named as Lua names it: "nil" ("no value" for none), a bound or library
// object by its type's name ("got userdata" said nothing of what was passed), else its Lua type.
std::string got_type(lua_State* L, int index);

// Reads a Lua array of numbers at `index` (throws naming `what` when it is not one; an element that is
// a number in quotes, { 1e21, "1e22" }, is named by its index with how to write it).
std::vector<double> to_numbers(lua_State* L, int index, const std::string& what);
// The text of the value at `index` when it is a string that reads as a number ("1e21", " 2e9 "),
// trimmed; empty otherwise (a word, or not a string). For the hint "write it without quotes".
std::string quoted_number(lua_State* L, int index);
void push_numbers(lua_State* L, const std::vector<double>& values);
void push_strings(lua_State* L, const std::vector<std::string>& values);

// Fields of the table on top of the stack: t[key] = value. A NaN number (a missing value) leaves the
// field nil.
void set_number(lua_State* L, const char* key, double value);
void set_integer(lua_State* L, const char* key, int64_t value);
void set_boolean(lua_State* L, const char* key, bool value);

}  // namespace scalelab::lua

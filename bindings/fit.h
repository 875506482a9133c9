// The Lua side of fit laws, for other bindings (plan/): a law in Lua is a userdata holding a
// fit::FittedLaw (published laws too, with fitted == false).
//   const fit::FittedLaw& law = lua::check<fit::FittedLaw>(L, 1);
//   lua::push(L, fitted_law);
// In Lua: law.kind, law.name, law.params (table), law.names, law.formula, law:predict{N=, D=, U=, C=, S=},
// law.samples (array of {name = value} tables, one per bootstrap resample), law.intervals
// ({name = {lo, hi}}), law:interval(name_or_function, level), law:summary().
#pragma once

#include "bindings/binding.h"
#include "fit/fit.h"
#include "fit/law.h"
#include "fit/observations.h"

namespace scalelab::lua {

template <>
struct TypeName<fit::FittedLaw> {
  static constexpr const char* value = "scalelab.Law";
};
template <>
struct TypeName<fit::Observations> {
  static constexpr const char* value = "scalelab.Observations";
};

// Reads a Point from a Lua table { N =, D =, U =, C =, S = } at `index` (unknown keys are errors).
fit::Point check_point(lua_State* L, int index, const char* function);

}  // namespace scalelab::lua

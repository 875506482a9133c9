// The vector instruction sets that scalelab's hot loops are compiled for, chosen when the program
// loads by what the CPU supports.
//
// A function marked SCALELAB_CLONES is compiled three times, for AVX-512F, for x86-64-v3 (AVX2 and
// FMA: Haswell and later Intel parts, AMD Zen 1-4 where AVX-512 is absent or hidden) and for
// baseline x86-64; GCC's resolver runs the widest clone the CPU can. The AVX2 clone is named by
// its feature level, not by a CPU: GCC resolves "arch=haswell" with __builtin_cpu_is("haswell"),
// which is false on every AMD CPU, so AMD machines without AVX-512 ran the baseline clone.
#pragma once

#include <string>

#define SCALELAB_TARGET_AVX512 "avx512f"
#define SCALELAB_TARGET_AVX2 "arch=x86-64-v3"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SCALELAB_CLONES __attribute__((target_clones(SCALELAB_TARGET_AVX512, SCALELAB_TARGET_AVX2, "default")))
#else
#define SCALELAB_CLONES
#endif

namespace scalelab::core {

// The clone that SCALELAB_CLONES functions run on this machine, as GCC's resolver picks it:
// "avx512f", "x86-64-v3" or "baseline" (also on other compilers and CPUs).
std::string vector_target();

// The clone the CPU's features call for, by __builtin_cpu_supports (what vector_target() must say).
std::string vector_target_expected();

// The widest instructions that hand-written kernels dispatching at run time (attention's tiles, the
// GELU) use: the running clone's, or less while limited. Tests limit it to check the narrower
// paths on a machine that also has the wider ones (the paths' code as the running clone compiles
// it: on an AVX-512 machine the 8-float tiles run in the AVX-512 clone, not the x86-64-v3 one).
enum class VectorLevel { Baseline = 0, Avx2 = 1, Avx512 = 2 };
VectorLevel vector_level();
// At most `level` from now on, process-wide (Avx512 lifts the limit).
void limit_vector_level(VectorLevel level);

}  // namespace scalelab::core

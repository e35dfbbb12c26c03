#pragma once
// Which build of the CPU's kernels the CPU device runs. The runtime library holds the kernels
// compiled for the baseline instruction set (in src/runtime.cpp) and, on x86-64 with
// -Dcpu_dispatch=true (meson.build), for AVX2+FMA and AVX-512 (src/cpu_kernels_variant.cpp):
// the first call picks the widest the processor and the operating system support, as ATen's
// CPU_CAPABILITY does. The environment variable CTGRAD_CPU_CAPABILITY (default, avx2, avx512)
// caps the choice, to compare the builds or to test each of them on one machine.
//
// A program compiled with CTGRAD_HEADER_ONLY has one build: its own flags'.
#include <cstdlib>
#include <string>
#include <string_view>

#include "../../core/config.hpp"
#include "../kernels.hpp"
#include "tensor_kernels.hpp"

#define CTGRAD_DETAIL_STRINGIFY_(x) #x
#define CTGRAD_DETAIL_STRINGIFY(x) CTGRAD_DETAIL_STRINGIFY_(x)

namespace ctgrad {

#if defined(CTGRAD_CPU_DISPATCH)
namespace cpu_kernels {
// Defined in the library's per-instruction-set builds (src/cpu_kernels_variant.cpp).
DeviceKernels& kernels_for_avx2();
DeviceKernels& kernels_for_avx512();
}  // namespace cpu_kernels
#endif

namespace detail {

struct cpu_kernels_choice {
    DeviceKernels* kernels;
    const char* capability;
};

inline cpu_kernels_choice choose_cpu_kernels() {
#if defined(CTGRAD_CPU_DISPATCH)
    // The compiler's cpuid reading (libgcc) also checks that the operating system saves the
    // vector registers; xsimd 8's available_architectures() reads cpuid alone.
    const bool has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char* cap = std::getenv("CTGRAD_CPU_CAPABILITY");
    const std::string_view requested = cap ? cap : "";
    const bool allow_avx512 = requested.empty() || requested == "avx512";
    const bool allow_avx2 = allow_avx512 || requested == "avx2";
    if (allow_avx512 && has_avx512) return {&cpu_kernels::kernels_for_avx512(), "avx512"};
    if (allow_avx2 && has_avx2) return {&cpu_kernels::kernels_for_avx2(), "avx2"};
    return {&cpu_kernels::kernels_for_this_instruction_set(), "default"};
#else
    return {&cpu_kernels::kernels_for_this_instruction_set(), CTGRAD_DETAIL_STRINGIFY(CTGRAD_SIMD_ABI)};
#endif
}

inline const cpu_kernels_choice& cpu_kernels_chosen() {
    static const cpu_kernels_choice choice = choose_cpu_kernels();
    return choice;
}

}  // namespace detail

CTGRAD_API DeviceKernels& cpu_device_kernels() { return *detail::cpu_kernels_chosen().kernels; }

CTGRAD_API std::string cpu_capability() { return detail::cpu_kernels_chosen().capability; }

}  // namespace ctgrad

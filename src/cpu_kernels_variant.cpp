// The CPU's kernels compiled for one wider instruction set: meson.build compiles this file once
// per set, with its flags and with CTGRAD_CPU_VARIANT naming the function that hands them out;
// device/cpu/dispatch.hpp picks among the builds at run time. Everything instantiated here lives
// in that instruction set's inline namespace (CTGRAD_SIMD_ABI, core/config.hpp), so none of it
// collides with the baseline build in runtime.cpp.
#include <string_view>

#include <ctgrad/device/cpu/tensor_kernels.hpp>

#define CTGRAD_VARIANT_STRINGIFY_(x) #x
#define CTGRAD_VARIANT_STRINGIFY(x) CTGRAD_VARIANT_STRINGIFY_(x)
static_assert(std::string_view(CTGRAD_VARIANT_STRINGIFY(CTGRAD_SIMD_ABI)) == CTGRAD_VARIANT_STRINGIFY(CTGRAD_EXPECTED_SIMD_ABI),
              "the flags of this build do not give the instruction set it is named after (meson.build)");

namespace ctgrad::cpu_kernels {
DeviceKernels& CTGRAD_CPU_VARIANT() { return kernels_for_this_instruction_set(); }
}  // namespace ctgrad::cpu_kernels

#pragma once
// The training examples' `device = torch.device("cuda")` line, taken from the command line so
// that one program is checked on the CPU and on the GPU against the same expected output:
// `--device cuda` runs it on cuda:0, nothing (or `--device cpu`) on the CPU.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <ctgrad/cuda.hpp>
#include <ctgrad/core/device.hpp>

#if CTGRAD_EXAMPLE_EMULATED_CUDA
#include "../../test/support/emulated_cuda_scope.hpp"
#endif

namespace examples {

inline ctgrad::Device device_from_args(int argc, char** argv) {
    const std::string_view flag = argc == 3 ? argv[1] : "", name = argc == 3 ? argv[2] : "";
    if (argc == 1 || (flag == "--device" && name == "cpu")) return ctgrad::Device(ctgrad::kCPU);
    if (flag != "--device" || name != "cuda") {
        std::fprintf(stderr, "usage: %s [--device cpu|cuda]\n", argv[0]);
        std::exit(2);
    }
#if CTGRAD_EXAMPLE_EMULATED_CUDA
    // Never destroyed, as kernels/cuda_device.cu's registration: a tensor in static storage
    // (seed0's w) frees its memory at exit, after a function-local static scope would be gone.
    static auto* const emulated = new ctgrad::testing::emulated_cuda_scope();
    std::fprintf(stderr, "--device cuda: %s\n", emulated->kernels().backend_name().c_str());
#endif
    if (!ctgrad::cuda::is_available()) {
        // 77 is meson's "skipped": a build with the CUDA library still runs its tests where there
        // is no GPU.
        std::printf("no CUDA GPU found: skipping\n");
        std::exit(77);
    }
    return ctgrad::Device(ctgrad::kCUDA);
}

}  // namespace examples

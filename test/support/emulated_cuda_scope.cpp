// The emulated device's kernels, compiled once for every test and example that uses them.
#include "emulated_cuda_scope.hpp"

#include "emulated_cuda.hpp"

namespace ctgrad::testing {

emulated_cuda_scope::emulated_cuda_scope()
    : previous_(detail::device_kernels_slot(kCUDA)), kernels_(std::make_unique<emulated_cuda_kernels>()) {
    register_device_kernels(kCUDA, kernels_.get());
}

emulated_cuda_scope::~emulated_cuda_scope() { register_device_kernels(kCUDA, previous_); }

}  // namespace ctgrad::testing

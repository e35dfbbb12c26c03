#pragma once
// Which memory a Thrust system's pointers live in. This is the one place that asks which
// device system Thrust was configured with (CUDA under nvcc; OpenMP, TBB or CPP elsewhere).
#include <thrust/execution_policy.h>
#include <type_traits>

#include "../expr/binding.hpp"

namespace ctgrad::expr::thrust_backend {

template <class System>
constexpr memory_space space_of() {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
    if constexpr (std::is_base_of_v<thrust::cuda_cub::execution_policy<System>, System> ||
                  std::is_convertible_v<System, thrust::cuda_cub::tag>)
        return memory_space::device;
#endif
    return memory_space::host;
}

template <class P>
inline constexpr bool is_policy_v = std::is_base_of_v<thrust::detail::execution_policy_base<P>, P>;

}  // namespace ctgrad::expr::thrust_backend

#pragma once
// Where a tensor's storage lives: the CPU, or the GPU (kCUDA). A device's memory and kernels are
// chosen by its type (core/storage.hpp, device/kernels.hpp), not by #ifdefs.
#include <cstdint>
#include <string>

#include "config.hpp"

namespace ctgrad {

enum class DeviceType : std::int8_t { CPU, CUDA };

inline constexpr DeviceType kCPU = DeviceType::CPU;
inline constexpr DeviceType kCUDA = DeviceType::CUDA;

struct Device {
    DeviceType type = kCPU;
    std::int8_t index = -1;  // -1: the current device of that type

    constexpr Device() = default;
    constexpr Device(DeviceType t, std::int8_t i = -1) : type(t), index(i) {}  // NOLINT: kCPU converts

    constexpr bool is_cpu() const { return type == kCPU; }
    constexpr bool is_cuda() const { return type == kCUDA; }
    // The current device (-1) is cuda:0: ctgrad drives one GPU.
    constexpr std::int8_t effective_index() const { return index < 0 ? 0 : index; }
    friend constexpr bool operator==(const Device& a, const Device& b) {
        return a.type == b.type && (a.type == kCPU || a.effective_index() == b.effective_index());
    }
    // PyTorch's spelling: "cpu", "cuda:0".
    std::string str() const;
};

}  // namespace ctgrad

#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

CTGRAD_API std::string Device::str() const {
    if (type == kCPU) return "cpu";
    return "cuda:" + std::to_string(effective_index());
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS

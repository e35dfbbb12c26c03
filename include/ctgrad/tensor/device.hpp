#pragma once
// Where a tensor's storage lives. Only the CPU is implemented; CUDA is a value of the same enum
// so that its code is added beside the CPU's (storage allocators and kernels chosen by device
// type), not through it.
#include <cstdint>
#include <string>

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
    friend constexpr bool operator==(const Device& a, const Device& b) {
        return a.type == b.type && (a.index == b.index || a.type == kCPU);
    }
    // PyTorch's spelling: "cpu", "cuda:0".
    std::string str() const {
        if (type == kCPU) return "cpu";
        return "cuda:" + std::to_string(index < 0 ? 0 : index);
    }
};

}  // namespace ctgrad

#pragma once
// The memory behind one or more tensors (views share it). It carries the version counter that
// PyTorch keeps per tensor and its views: every in-place write bumps it, and a tensor saved for
// backward remembers the version it saw, so that a later in-place change is an error rather than
// a wrong gradient.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "../error.hpp"
#include "device.hpp"

namespace ctgrad {

class Storage {
public:
    // Fresh memory for nbytes on `device`, 64-byte aligned so SIMD loads never straddle lines.
    static std::shared_ptr<Storage> allocate(std::size_t nbytes, Device device) {
        if (!device.is_cpu())
            throw Error("ctgrad was built without CUDA support: cannot allocate on " + device.str());
        auto s = std::make_shared<Storage>();
        constexpr std::size_t alignment = 64;
        const std::size_t rounded = (nbytes + alignment - 1) / alignment * alignment;
        void* p = rounded ? ::operator new(rounded, std::align_val_t(alignment)) : nullptr;
        s->owner_ = std::shared_ptr<void>(p, [](void* q) { ::operator delete(q, std::align_val_t(alignment)); });
        s->data_ = p;
        s->nbytes_ = nbytes;
        s->device_ = device;
        return s;
    }
    // Memory owned elsewhere (an xt::xarray, a user buffer): `owner` keeps it alive.
    static std::shared_ptr<Storage> wrap(void* data, std::size_t nbytes, std::shared_ptr<void> owner, Device device) {
        auto s = std::make_shared<Storage>();
        s->owner_ = std::move(owner);
        s->data_ = data;
        s->nbytes_ = nbytes;
        s->device_ = device;
        return s;
    }

    void* data() const { return data_; }
    std::size_t nbytes() const { return nbytes_; }
    Device device() const { return device_; }

    std::uint32_t version() const { return version_.load(std::memory_order_relaxed); }
    void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

private:
    std::shared_ptr<void> owner_;
    void* data_ = nullptr;
    std::size_t nbytes_ = 0;
    Device device_;
    std::atomic<std::uint32_t> version_{0};
};

}  // namespace ctgrad

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

// Where memory of one device type comes from. The CPU's is built in; a GPU backend registers
// its own (register_allocator), so that a new device is added beside the CPU code, not
// through it.
struct Allocator {
    virtual ~Allocator() = default;
    virtual void* allocate(std::size_t nbytes) = 0;
    virtual void deallocate(void* p) noexcept = 0;
};

namespace detail {
// 64-byte aligned, so that SIMD loads of a fresh tensor never straddle cache lines.
struct cpu_allocator final : Allocator {
    static constexpr std::size_t alignment = 64;
    void* allocate(std::size_t nbytes) override {
        const std::size_t rounded = (nbytes + alignment - 1) / alignment * alignment;
        return rounded ? ::operator new(rounded, std::align_val_t(alignment)) : nullptr;
    }
    void deallocate(void* p) noexcept override { ::operator delete(p, std::align_val_t(alignment)); }
};

inline Allocator*& allocator_slot(DeviceType type) {
    static cpu_allocator cpu;
    static Allocator* slots[2] = {&cpu, nullptr};
    return slots[static_cast<int>(type)];
}
}  // namespace detail

inline void register_allocator(DeviceType type, Allocator* allocator) { detail::allocator_slot(type) = allocator; }

class Storage {
public:
    // Fresh memory for nbytes on `device`, from the allocator registered for its type.
    static std::shared_ptr<Storage> allocate(std::size_t nbytes, Device device) {
        Allocator* allocator = detail::allocator_slot(device.type);
        if (!allocator)
            throw Error("cannot allocate a tensor on " + device.str() +
                        ": this build of ctgrad has no allocator for that device (no CUDA support)");
        auto s = std::make_shared<Storage>();
        void* p = allocator->allocate(nbytes);
        s->owner_ = std::shared_ptr<void>(p, [allocator](void* q) { allocator->deallocate(q); });
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

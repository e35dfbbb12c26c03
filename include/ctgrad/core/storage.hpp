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
#include <unordered_map>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "device.hpp"

namespace ctgrad {

// Where memory of one device type comes from. The CPU's is built in; a GPU backend registers
// its own (register_allocator), so that a new device is added beside the CPU code, not
// through it.
struct Allocator {
    virtual ~Allocator() = default;
    // nbytes of memory, or null when there is not that much (Storage::allocate reports it).
    virtual void* allocate(std::size_t nbytes) = 0;
    virtual void deallocate(void* p, std::size_t nbytes) noexcept = 0;
};

namespace detail {
// 64-byte aligned, so that SIMD loads of a fresh tensor never straddle cache lines. Freed blocks
// are kept per size in a per-thread cache and handed out again: a training step allocates the
// same sizes every iteration, and at tutorial sizes (kilobytes) glibc's aligned malloc and free
// cost as much as the arithmetic. The cache is bounded; what does not fit is freed at once.
struct cpu_allocator final : Allocator {
    static constexpr std::size_t alignment = 64;
    static constexpr std::size_t max_cached_block = std::size_t(16) << 20;
    static constexpr std::size_t max_cached_bytes = std::size_t(256) << 20;

    // Blocks of up to small_blocks * alignment bytes are kept in an array indexed by size (a
    // tensor op's outputs are mostly small), larger ones in a map.
    static constexpr std::size_t small_blocks = 64;

    struct cache {
        // On the heap: thread-locals stay a few bytes (the library's TLS model, meson.build).
        std::vector<std::vector<void*>> small = std::vector<std::vector<void*>>(small_blocks);
        std::unordered_map<std::size_t, std::vector<void*>> free_blocks;
        std::size_t bytes = 0;
        std::vector<void*>* blocks_of(std::size_t size, bool create);
        ~cache();
        static bool& alive();
    };
    static cache* local();
    static std::size_t rounded(std::size_t nbytes) { return (nbytes + alignment - 1) / alignment * alignment; }

    // Defined in the library (below), which also holds the vtable: allocate is the key function.
    void* allocate(std::size_t nbytes) override;
    void deallocate(void* p, std::size_t nbytes) noexcept override;
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
    // Fresh memory for nbytes on `device`, from the allocator registered for its type; `op`
    // names the operation in the error when there is not that much memory.
    static std::shared_ptr<Storage> allocate(std::size_t nbytes, Device device, const char* op = "empty");
    // Memory owned elsewhere (an xt::xarray, a user buffer): `owner` keeps it alive.
    static std::shared_ptr<Storage> wrap(void* data, std::size_t nbytes, std::shared_ptr<void> owner, Device device);

    Storage() = default;
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    ~Storage() {
        if (allocator_) allocator_->deallocate(data_, nbytes_);
    }

    void* data() const { return data_; }
    std::size_t nbytes() const { return nbytes_; }
    Device device() const { return device_; }

    std::uint32_t version() const { return version_.load(std::memory_order_relaxed); }
    void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

private:
    std::shared_ptr<void> owner_;     // memory owned elsewhere (wrap), or null
    Allocator* allocator_ = nullptr;  // memory from allocate(): returned to it by the destructor
    void* data_ = nullptr;
    std::size_t nbytes_ = 0;
    Device device_;
    std::atomic<std::uint32_t> version_{0};
};

}  // namespace ctgrad

// The allocator and the bodies that allocate, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad {

namespace detail {

CTGRAD_API std::vector<void*>* cpu_allocator::cache::blocks_of(std::size_t size, bool create) {
    if (size <= small_blocks * alignment) return &small[size / alignment - 1];
    if (!create) {
        auto it = free_blocks.find(size);
        return it == free_blocks.end() ? nullptr : &it->second;
    }
    return &free_blocks[size];
}

CTGRAD_API cpu_allocator::cache::~cache() {
    for (auto& blocks : small)
        for (void* p : blocks) ::operator delete(p, std::align_val_t(alignment));
    for (auto& [size, blocks] : free_blocks)
        for (void* p : blocks) ::operator delete(p, std::align_val_t(alignment));
    alive() = false;
}

CTGRAD_API bool& cpu_allocator::cache::alive() {
    thread_local bool flag = true;
    return flag;
}

CTGRAD_API cpu_allocator::cache* cpu_allocator::local() {
    if (!cache::alive()) return nullptr;  // during thread exit, after the cache is gone
    thread_local cache c;
    return &c;
}

CTGRAD_API void* cpu_allocator::allocate(std::size_t nbytes) {
    const std::size_t size = rounded(nbytes);
    if (size == 0) return nullptr;
    if (cache* c = local()) {
        std::vector<void*>* blocks = c->blocks_of(size, false);
        if (blocks && !blocks->empty()) {
            void* p = blocks->back();
            blocks->pop_back();
            c->bytes -= size;
            return p;
        }
    }
    // The non-throwing new: a request beyond what the machine has is reported as a
    // ctgrad::Error by Storage::allocate (and a sanitizer run that allows null returns sees
    // the same, instead of aborting inside a throwing new).
    return ::operator new(size, std::align_val_t(alignment), std::nothrow);
}

CTGRAD_API void cpu_allocator::deallocate(void* p, std::size_t nbytes) noexcept {
    if (!p) return;
    const std::size_t size = rounded(nbytes);
    cache* c = local();
    if (c && size <= max_cached_block && c->bytes + size <= max_cached_bytes) {
        try {
            c->blocks_of(size, true)->push_back(p);
            c->bytes += size;
            return;
        } catch (...) {  // no memory for the bookkeeping: free the block instead
        }
    }
    ::operator delete(p, std::align_val_t(alignment));
}

}  // namespace detail

CTGRAD_API std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes, Device device, const char* op) {
    if (device.is_cuda()) {  // one GPU: "cuda" means cuda:0, and tensors say so
        if (device.index > 0)
            throw Error("cannot allocate a tensor on " + device.str() + ": ctgrad uses one GPU, cuda:0");
        device.index = 0;
    }
    Allocator* allocator = detail::allocator_slot(device.type);
    if (!allocator)
        throw Error("cannot allocate a tensor on " + device.str() +
                    ": this program does not link ctgrad's CUDA kernels (build with -Dcuda=enabled and link "
                    "the ctgrad_cuda library)");
    auto s = std::make_shared<Storage>();
    // The storage frees its memory itself (~Storage): no second control block per tensor.
    try {
        s->data_ = allocator->allocate(nbytes);
    } catch (const std::bad_alloc&) {
        s->data_ = nullptr;
    }
    if (!s->data_ && nbytes != 0)
        throw Error(std::string(op) + ": not enough memory: you tried to allocate " + std::to_string(nbytes) +
                    " bytes on " + device.str());
    s->allocator_ = allocator;
    s->nbytes_ = nbytes;
    s->device_ = device;
    return s;
}

CTGRAD_API std::shared_ptr<Storage> Storage::wrap(void* data, std::size_t nbytes, std::shared_ptr<void> owner,
                                                  Device device) {
    auto s = std::make_shared<Storage>();
    s->owner_ = std::move(owner);
    s->data_ = data;
    s->nbytes_ = nbytes;
    s->device_ = device;
    return s;
}

}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS

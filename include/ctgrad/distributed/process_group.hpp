#pragma once
// A process group over MPI, in the image of PyTorch's c10d::ProcessGroupMPI: every process of an
// `mpirun -np N` job, with allreduce (sum or mean), broadcast and barrier on CPU tensors.
//
// Header-only, as it needs <mpi.h>: a program that includes it links MPI itself (meson:
// dependency('mpi', language: 'cpp')); ctgrad's own library does not depend on MPI.
//
// Three rules make a collective safe to call:
// - Agreement first. Before each collective every rank sends every other a small fixed-size
//   description of its call (the op, its tensor's dtype, shape and device, the root or reduce
//   op); all ranks compare the same descriptions, so a mismatch is the same ctgrad::Error on
//   every rank, naming each rank's shape, instead of MPI reading past a buffer or hanging.
// - All or nothing. The result is received into a scratch tensor and copied into the caller's
//   tensor only once the collective has succeeded: an error leaves the tensor as it was.
// - No hang. Collectives are nonblocking (MPI_Iallgather, MPI_Iallreduce, MPI_Ibcast,
//   MPI_Ibarrier), polled with MPI_Testall until the options' timeout (default 300 s); a rank
//   that fails or never calls makes the others throw an Error naming the op and the rank. An MPI
//   collective cannot be cancelled, so after a timeout the group keeps the pending operation's
//   buffers alive (MPI may still write them) and refuses any further collective.
// Every MPI call's return code is checked (the group's communicator returns errors instead of
// aborting: MPI_ERRORS_RETURN) and turned into an Error with MPI_Error_string's text.
// Only MPI's C interface is used; its deprecated C++ bindings (which <mpi.h> pulls into C++
// programs) would only add warnings.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../autograd/grad_mode.hpp"
#include "../core/error.hpp"
#include "../nn/arg.hpp"
#include "../tensor/functions.hpp"
#include "../tensor/tensor.hpp"

namespace ctgrad::distributed {

// How allreduce combines the ranks' tensors (torch.distributed.ReduceOp). AVG is SUM divided by
// the world size, for floating-point tensors; SUM of Bool tensors is a logical or, as in PyTorch.
enum class ReduceOp { SUM, AVG };

inline const char* reduce_op_name(ReduceOp op) { return op == ReduceOp::SUM ? "SUM" : "AVG"; }

struct ProcessGroupMPIOptions {
    // How long a collective waits for the other ranks before it throws (PyTorch's `timeout` of
    // init_process_group). Long enough for a rank that is merely slower (a bigger batch, a
    // checkpoint being written); a rank that failed is reported after it.
    CTGRAD_ARG(std::chrono::milliseconds, timeout) = std::chrono::seconds(300);
};

class ProcessGroupMPI;
template <class ModuleType> class DistributedDataParallel;

namespace detail {
class gradient_reducer;

// What a pending operation that timed out still points to. It can neither be cancelled nor
// freed while MPI may write into it, so it is kept here, reachable, until the process ends.
struct abandoned_operation {
    std::vector<MPI_Request> requests;
    std::vector<Tensor> buffers;
    std::shared_ptr<std::vector<std::int64_t>> descriptions;
    std::shared_ptr<MPI_Comm> communicator;
};
inline std::vector<abandoned_operation>& abandoned_operations() {
    static std::vector<abandoned_operation> kept;
    return kept;
}
inline std::mutex& abandoned_mutex() {
    static std::mutex m;
    return m;
}

inline std::string mpi_error_string(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error code " + std::to_string(code);
    return std::string(text, static_cast<std::size_t>(length));
}

// Starts MPI once for the process when the program has not (as c10d does), and stops it at exit.
// A program that called MPI_Init itself also calls MPI_Finalize itself.
inline void ensure_mpi_initialized() {
    static const bool started = [] {
        int initialized = 0;
        if (int rc = MPI_Initialized(&initialized); rc != MPI_SUCCESS)
            throw Error("ProcessGroupMPI: MPI_Initialized failed: " + mpi_error_string(rc));
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (finalized) throw Error("ProcessGroupMPI: MPI has already been finalized in this process");
        if (initialized) return false;
        // Serialized: collectives run on whichever thread calls them (backward's), one at a time.
        int provided = 0;
        if (int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided); rc != MPI_SUCCESS)
            throw Error("ProcessGroupMPI: MPI_Init_thread failed: " + mpi_error_string(rc));
        std::atexit([] {
            int done = 0;
            MPI_Finalized(&done);
            if (!done) MPI_Finalize();
        });
        return true;
    }();
    (void)started;
}

inline MPI_Datatype mpi_datatype(ScalarType dtype) {
    switch (dtype) {
        case kBool: return MPI_CXX_BOOL;
        case kLong: return MPI_INT64_T;
        case kFloat: return MPI_FLOAT;
        case kDouble: return MPI_DOUBLE;
        case kByte: return MPI_UINT8_T;
        case kChar: return MPI_INT8_T;
        case kShort: return MPI_INT16_T;
        case kInt: return MPI_INT32_T;
    }
    throw Error("ProcessGroupMPI: internal: no MPI datatype for dtype " + std::to_string(static_cast<int>(dtype)));
}

// One rank's description of the collective it is calling, exchanged before the collective.
// Fixed size, so that the exchange itself cannot disagree: a shape of more dims than fit is
// compared through its element count and a hash of all its sizes.
struct call_description {
    enum op_code : std::int64_t { allreduce = 1, broadcast, barrier, check };
    enum status_code : std::int64_t { usable = 0, undefined, not_cpu };
    static constexpr std::size_t max_dims = 8;
    static constexpr std::size_t size = 8 + max_dims;

    std::array<std::int64_t, size> fields{};
    std::int64_t& op() { return fields[0]; }
    std::int64_t& status() { return fields[1]; }
    std::int64_t& device() { return fields[2]; }
    std::int64_t& dtype() { return fields[3]; }
    std::int64_t& argument() { return fields[4]; }  // the reduce op, the root or a count
    std::int64_t& ndim() { return fields[5]; }
    std::int64_t& numel() { return fields[6]; }
    std::int64_t& shape_hash() { return fields[7]; }
    std::int64_t* sizes() { return fields.data() + 8; }

    static call_description of(op_code op, const Tensor* tensor, std::int64_t argument) {
        call_description d;
        d.op() = op;
        d.argument() = argument;
        if (!tensor) return d;
        if (!tensor->defined()) {
            d.status() = undefined;
            return d;
        }
        const Device device = tensor->device();
        d.device() = static_cast<std::int64_t>(device.type) * 256 + device.effective_index();
        if (!device.is_cpu()) d.status() = not_cpu;
        d.dtype() = static_cast<std::int64_t>(tensor->scalar_type());
        const IntArrayRef sizes = tensor->sizes();
        d.ndim() = static_cast<std::int64_t>(sizes.size());
        d.numel() = tensor->numel();
        std::uint64_t hash = 1469598103934665603ull;  // FNV-1a over the sizes
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            if (i < max_dims) d.sizes()[i] = sizes[i];
            hash = (hash ^ static_cast<std::uint64_t>(sizes[i])) * 1099511628211ull;
        }
        d.shape_hash() = static_cast<std::int64_t>(hash);
        return d;
    }
    static call_description read(const std::int64_t* from) {
        call_description d;
        for (std::size_t i = 0; i < size; ++i) d.fields[i] = from[i];
        return d;
    }

    static const char* op_name(std::int64_t op) {
        switch (op) {
            case allreduce: return "allreduce";
            case broadcast: return "broadcast";
            case barrier: return "barrier";
            case check: return "a check of DistributedDataParallel";
            default: return "an unknown operation";
        }
    }
    // "Float [4, 3]", as the other errors of ctgrad print a tensor.
    std::string tensor_str() {
        if (status() == undefined) return "an undefined tensor";
        std::string s = std::string(dtype_name(static_cast<ScalarType>(dtype()))) + " [";
        for (std::int64_t i = 0; i < ndim(); ++i) {
            if (i == static_cast<std::int64_t>(max_dims)) {
                s += ", ... (" + std::to_string(numel()) + " elements)";
                break;
            }
            s += (i ? ", " : "") + std::to_string(sizes()[i]);
        }
        s += "]";
        if (status() == not_cpu) s += " on " + Device(static_cast<DeviceType>(device() / 256),
                                                       static_cast<std::int8_t>(device() % 256)).str();
        return s;
    }
    bool same_tensor(call_description& other) {
        return dtype() == other.dtype() && ndim() == other.ndim() && numel() == other.numel() &&
               shape_hash() == other.shape_hash() && status() == other.status();
    }
};

}  // namespace detail

// All the processes of the MPI job (MPI_COMM_WORLD), on a communicator of the group's own, so
// that its messages never match a program's other MPI calls. Every rank must call the same
// collectives in the same order, as with any MPI communicator.
class ProcessGroupMPI {
public:
    using Options = ProcessGroupMPIOptions;

    // Starts MPI if the program has not (MPI_Init_thread, finalized at exit) and joins the group.
    // Joining is itself a collective over all ranks, bounded by the timeout.
    explicit ProcessGroupMPI(Options options = {}) : options_(std::move(options)) {
        detail::ensure_mpi_initialized();
        check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank", "ProcessGroupMPI");
        check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size", "ProcessGroupMPI");
        auto communicator = std::make_shared<MPI_Comm>(MPI_COMM_NULL);
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Comm_idup(MPI_COMM_WORLD, communicator.get(), &request), "MPI_Comm_idup", where("creation"));
        std::vector<MPI_Request> requests{request};
        wait(requests, "creation", {}, nullptr, communicator, "");
        comm_ = *communicator;
        check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler", where("creation"));
    }
    // c10d's factory.
    static std::shared_ptr<ProcessGroupMPI> createProcessGroupMPI(Options options = {}) {
        return std::make_shared<ProcessGroupMPI>(std::move(options));
    }

    ProcessGroupMPI(const ProcessGroupMPI&) = delete;
    ProcessGroupMPI& operator=(const ProcessGroupMPI&) = delete;
    ~ProcessGroupMPI() {
        // After a timeout the communicator still has a pending operation: it is left to MPI_Finalize.
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (comm_ != MPI_COMM_NULL && broken_.empty() && !finalized) MPI_Comm_free(&comm_);
    }

    int get_rank() const { return rank_; }
    int get_world_size() const { return size_; }
    const Options& options() const { return options_; }

    // Replaces `tensor` on every rank by the sum (or mean) of all ranks' tensors
    // (torch.distributed.all_reduce). Every rank passes a CPU tensor of the same dtype and shape.
    void allreduce(const Tensor& tensor, ReduceOp op = ReduceOp::SUM) {
        const Tensor result = reduced(tensor, op);
        if (!result.defined()) return;  // nothing to write: one rank, or no elements
        NoGradGuard no_grad;  // a parameter (a leaf that requires grad) is written as data, as c10d does
        Tensor(tensor).copy_(result);
    }

    // Replaces `tensor` on every rank by rank `src`'s (torch.distributed.broadcast).
    void broadcast(const Tensor& tensor, int src = 0) {
        const char* name = "broadcast";
        detail::call_description mine = agree(name, detail::call_description::broadcast, &tensor, src);
        if (src < 0 || src >= size_)
            throw Error(where(name) + ": src " + std::to_string(src) + " is not a rank of this group of " +
                        std::to_string(size_) + " processes");
        // On one rank, every rank's tensor is this one.
        if (tensor.numel() == 0 || size_ == 1) return;
        const bool root = rank_ == src;
        // The root's tensor is only read; the others receive into a scratch tensor.
        Tensor buffer = root ? tensor.contiguous() : empty(tensor.sizes(), TensorOptions().dtype(tensor.scalar_type()));
        std::vector<MPI_Request> requests;
        for_each_chunk(tensor, [&](std::size_t offset_bytes, int count) {
            MPI_Request r = MPI_REQUEST_NULL;
            const int rc = MPI_Ibcast(static_cast<char*>(buffer.data_ptr()) + offset_bytes, count,
                                      detail::mpi_datatype(tensor.scalar_type()), src, comm_, &r);
            requests.push_back(r);
            if (rc != MPI_SUCCESS) abandon_and_throw(requests, {buffer}, name, "MPI_Ibcast", rc, mine);
        });
        wait(requests, name, {buffer}, nullptr, nullptr, mine.tensor_str());
        if (root) return;
        NoGradGuard no_grad;
        Tensor(tensor).copy_(buffer);
    }

    // Returns once every rank has called barrier (torch.distributed.barrier).
    void barrier() {
        const char* name = "barrier";
        agree(name, detail::call_description::barrier, nullptr, 0);
        MPI_Request r = MPI_REQUEST_NULL;
        std::vector<MPI_Request> requests;
        const int rc = MPI_Ibarrier(comm_, &r);
        requests.push_back(r);
        if (rc != MPI_SUCCESS) abandon_and_throw(requests, {}, name, "MPI_Ibarrier", rc, {});
        wait(requests, name, {}, nullptr, nullptr, "");
    }

private:
    template <class ModuleType> friend class DistributedDataParallel;
    friend class detail::gradient_reducer;

    // allreduce without its last step: the sum (or mean) in a new tensor, `tensor` unchanged.
    // Undefined when it equals `tensor` (one rank) or there are no elements. The data-parallel
    // wrapper reads its flat gradient buffers' averages from here, saving a copy.
    Tensor reduced(const Tensor& tensor, ReduceOp op) {
        const char* name = "allreduce";
        detail::call_description mine =
            agree(name, detail::call_description::allreduce, &tensor, static_cast<std::int64_t>(op));
        const ScalarType dtype = tensor.scalar_type();
        if (op == ReduceOp::AVG && !is_floating_point(dtype))
            throw Error(where(name) + ": ReduceOp::AVG needs a floating-point tensor, got " + mine.tensor_str() +
                        " (on every rank)");
        // On one rank the sum and the mean are the tensor itself (MPI would copy it).
        if (tensor.numel() == 0 || size_ == 1) return Tensor();
        const Tensor send = tensor.contiguous();
        Tensor result = empty(tensor.sizes(), TensorOptions().dtype(dtype));
        const MPI_Op mpi_op = dtype == kBool ? MPI_LOR : MPI_SUM;
        std::vector<MPI_Request> requests;
        for_each_chunk(tensor, [&](std::size_t offset_bytes, int count) {
            MPI_Request r = MPI_REQUEST_NULL;
            const int rc = MPI_Iallreduce(static_cast<const char*>(send.data_ptr()) + offset_bytes,
                                          static_cast<char*>(result.data_ptr()) + offset_bytes, count,
                                          detail::mpi_datatype(dtype), mpi_op, comm_, &r);
            requests.push_back(r);
            if (rc != MPI_SUCCESS) abandon_and_throw(requests, {send, result}, name, "MPI_Iallreduce", rc, mine);
        });
        wait(requests, name, {send, result}, nullptr, nullptr, mine.tensor_str());
        if (op == ReduceOp::AVG) result.div_(size_);
        return result;
    }

    // "ProcessGroupMPI allreduce on rank 1 of 2", the start of every message.
    std::string where(const char* op) const {
        return std::string("ProcessGroupMPI ") + op + " on rank " + std::to_string(rank_) + " of " +
               std::to_string(size_);
    }

    // `who` starts the message: where(op), or the class name before the rank is known.
    static void check(int rc, const char* mpi_function, const std::string& who) {
        if (rc != MPI_SUCCESS) throw Error(who + ": " + mpi_function + " failed: " + detail::mpi_error_string(rc));
    }

    void check_usable(const char* op) const {
        if (!broken_.empty())
            throw Error(where(op) + ": this process group can no longer be used: " + broken_ +
                        ". Its ranks are out of step; end the job (or create a new process group on every rank)");
    }

    // MPI counts are ints: a tensor of more elements goes in chunks, one operation each.
    template <class F>
    static void for_each_chunk(const Tensor& tensor, F&& post) {
        constexpr std::int64_t max_count = std::int64_t(1) << 30;
        const std::int64_t n = tensor.numel();
        const std::size_t element = tensor.element_size();
        for (std::int64_t offset = 0; offset < n; offset += max_count)
            post(static_cast<std::size_t>(offset) * element, static_cast<int>(std::min(max_count, n - offset)));
    }

    [[noreturn]] void abandon_and_throw(std::vector<MPI_Request>& requests, std::vector<Tensor> buffers, const char* op,
                                        const char* mpi_function, int rc, detail::call_description mine) {
        // The chunks posted before the failing one may still run: keep their buffers, stop the group.
        requests.pop_back();
        std::string message = where(op) + ": " + mpi_function + " failed: " + detail::mpi_error_string(rc);
        if (mine.op()) message += " (tensor " + mine.tensor_str() + ", unchanged)";
        if (!requests.empty()) {
            broken_ = std::string(op) + " failed";
            std::lock_guard<std::mutex> lock(detail::abandoned_mutex());
            detail::abandoned_operations().push_back({requests, std::move(buffers), nullptr, nullptr});
        }
        throw Error(message);
    }

    // Polls `requests` until they complete, an MPI call fails, or the timeout passes. On a
    // timeout the operation is abandoned (its buffers kept, see abandoned_operation).
    void wait(std::vector<MPI_Request>& requests, const char* op, std::vector<Tensor> buffers,
              std::shared_ptr<std::vector<std::int64_t>> descriptions, std::shared_ptr<MPI_Comm> communicator,
              const std::string& tensor) {
        const auto start = std::chrono::steady_clock::now();
        const auto deadline = start + options_.timeout();
        for (std::size_t polls = 0;; ++polls) {
            int done = 0;
            const int rc = MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
            if (rc != MPI_SUCCESS) {
                broken_ = std::string(op) + " failed";
                std::lock_guard<std::mutex> lock(detail::abandoned_mutex());
                detail::abandoned_operations().push_back(
                    {requests, std::move(buffers), std::move(descriptions), std::move(communicator)});
                throw Error(where(op) + ": MPI_Testall failed: " + detail::mpi_error_string(rc) +
                            (tensor.empty() ? "" : " (tensor " + tensor + ", unchanged)"));
            }
            if (done) return;
            // Spin first (a collective of small tensors completes in microseconds), then let the
            // other processes of an oversubscribed machine run between polls.
            if (polls > 10000) std::this_thread::yield();
            if ((polls & 63) == 0 && std::chrono::steady_clock::now() > deadline) {
                const double seconds = std::chrono::duration<double>(options_.timeout()).count();
                broken_ = std::string(op) + " timed out";
                {
                    std::lock_guard<std::mutex> lock(detail::abandoned_mutex());
                    detail::abandoned_operations().push_back(
                        {requests, std::move(buffers), std::move(descriptions), std::move(communicator)});
                }
                char timeout_text[32];
                std::snprintf(timeout_text, sizeof timeout_text, "%g", seconds);
                throw Error(where(op) + ": timed out after " + timeout_text +
                            " s: the other ranks did not join (a rank failed, exited, or is calling another collective)" +
                            (tensor.empty() ? "" : "; the tensor (" + tensor + ") is unchanged"));
            }
        }
    }

    // Exchanges every rank's description of the call (one small MPI_Iallgather) and throws the
    // same Error on every rank unless all describe the same call. Returns this rank's.
    detail::call_description agree(const char* op, detail::call_description::op_code code, const Tensor* tensor,
                                   std::int64_t argument, const std::string& label = "") {
        check_usable(op);
        detail::call_description mine = detail::call_description::of(code, tensor, argument);
        constexpr int n = static_cast<int>(detail::call_description::size);
        auto all = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(n) * size_);
        MPI_Request r = MPI_REQUEST_NULL;
        check(MPI_Iallgather(mine.fields.data(), n, MPI_INT64_T, all->data(), n, MPI_INT64_T, comm_, &r),
              "MPI_Iallgather", where(op));
        std::vector<MPI_Request> requests{r};
        wait(requests, op, {}, all, nullptr, tensor && tensor->defined() ? mine.tensor_str() : "");

        std::vector<detail::call_description> ranks;
        for (int i = 0; i < size_; ++i) ranks.push_back(detail::call_description::read(all->data() + i * n));
        // Only the ranks that differ from rank 0 are named (all of them would not fit a message
        // on a large job), with rank 0 for comparison.
        auto list = [&](auto&& differs, auto&& describe) {
            std::string s = "rank 0 " + describe(ranks[0]);
            int named = 0;
            for (int i = 1; i < size_; ++i)
                if (differs(ranks[i])) {
                    if (++named > 8) {
                        s += ", ...";
                        break;
                    }
                    s += ", rank " + std::to_string(i) + " " + describe(ranks[i]);
                }
            return s;
        };
        // `label` says what is compared, for the checks of DistributedDataParallel.
        const std::string context = label.empty() ? "" : " (" + label + ")";
        auto differ = [&](auto&& field) {
            return std::any_of(ranks.begin(), ranks.end(), [&](auto& d) { return field(d) != field(ranks[0]); });
        };
        if (differ([](auto& d) { return d.op(); }))
            throw Error(where(op) + ": the ranks called different collectives: " +
                        list([&](auto& d) { return d.op() != ranks[0].op(); },
                             [](auto& d) { return std::string("called ") + detail::call_description::op_name(d.op()); }));
        if (tensor) {
            // A tensor that cannot take part on some rank: every rank reports it.
            std::string unusable;
            for (int i = 0; i < size_; ++i) {
                auto& d = ranks[static_cast<std::size_t>(i)];
                const std::string rank = "rank " + std::to_string(i);
                if (d.status() == detail::call_description::undefined)
                    unusable += (unusable.empty() ? "" : "; ") + rank + " passed an undefined tensor";
                else if (d.status() == detail::call_description::not_cpu)
                    unusable += (unusable.empty() ? "" : "; ") + rank + " passed " + d.tensor_str() +
                                ", but ProcessGroupMPI takes CPU tensors only (copy it with .cpu() first)";
            }
            if (!unusable.empty()) throw Error(where(op) + context + ": " + unusable);
            if (std::any_of(ranks.begin(), ranks.end(), [&](auto& d) { return !d.same_tensor(ranks[0]); }))
                throw Error(where(op) + context + ": the ranks' tensors differ in dtype or shape: " +
                            list([&](auto& d) { return !d.same_tensor(ranks[0]); },
                                 [](auto& d) { return "has " + d.tensor_str(); }));
        }
        if (differ([](auto& d) { return d.argument(); }))
            throw Error(where(op) + context + ": the ranks disagree on the " +
                        (code == detail::call_description::allreduce   ? "reduce op: "
                         : code == detail::call_description::broadcast ? "source rank: "
                                                                       : "count: ") +
                        list([&](auto& d) { return d.argument() != ranks[0].argument(); },
                             [&](auto& d) {
                                 if (code == detail::call_description::allreduce)
                                     return std::string("asked for ") + reduce_op_name(static_cast<ReduceOp>(d.argument()));
                                 if (code == detail::call_description::broadcast)
                                     return "broadcasts from rank " + std::to_string(d.argument());
                                 return "has " + std::to_string(d.argument());
                             }));
        return mine;
    }

    Options options_;
    int rank_ = 0;
    int size_ = 1;
    MPI_Comm comm_ = MPI_COMM_NULL;
    std::string broken_;  // why the group can no longer be used (a collective failed or timed out)
};

}  // namespace ctgrad::distributed

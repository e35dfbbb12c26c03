#pragma once
// Data parallelism in the image of PyTorch's torch.nn.parallel.DistributedDataParallel: every
// rank holds a replica of the module and runs it on its own part of the batch; the replicas
// start equal (rank 0's parameters and buffers are broadcast when the wrapper is made) and stay
// equal because every rank's optimizer then takes the same step, from gradients averaged
// across the ranks after each backward pass.
//
// How the averaging is triggered: forward passes the module's output through one identity
// node of the graph (DistributedDataParallelBackward). When a backward pass reaches that node it
// queues a callback on the pass (autograd::queue_callback), which the engine runs once the pass
// has stored every .grad: the callback packs the gradients, per dtype, into flat buffers of at
// most bucket_cap_mb (25 MiB, as PyTorch), averages each buffer with one allreduce, and copies
// the averages back into the .grad tensors only once every bucket has succeeded. (PyTorch's
// reducer starts a bucket as soon as its gradients are ready, overlapping communication with
// the rest of the pass; ctgrad's engine stores gradients only at the end of a pass, so the
// buckets go one after another at the end.)
//
// A parameter that got no gradient on a rank (unused in that rank's forward) counts as a zero
// gradient there, as PyTorch's find_unused_parameters=false asks of the user; if no rank has a
// gradient for it, its .grad stays undefined on all ranks. Either way every rank ends with the
// same .grad, so their optimizers stay in step. The undefined-or-not of each gradient travels in
// the same allreduce, as one extra element per parameter at the end of its bucket.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../autograd/backward.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/node.hpp"
#include "../core/error.hpp"
#include "../nn/arg.hpp"
#include "../tensor/functions.hpp"
#include "../tensor/tensor.hpp"
#include "process_group.hpp"

namespace ctgrad::distributed {

struct DistributedDataParallelOptions {
    // Largest bucket in MiB (PyTorch's bucket_cap_mb): fewer, larger allreduces cost fewer
    // latencies; a parameter larger than this gets a bucket of its own.
    CTGRAD_ARG(double, bucket_cap_mb) = 25;
    // Whether forward first broadcasts rank 0's buffers (PyTorch's broadcast_buffers), so that
    // state such as running means is the same on every rank. Skipped when the module has none.
    CTGRAD_ARG(bool, broadcast_buffers) = true;
};

namespace detail {

// Tensors of one dtype that travel in one collective, packed one after another into a flat
// buffer of `numel` elements.
struct bucket {
    ScalarType dtype = kFloat;
    std::vector<std::size_t> members;   // indexes into the tensors the buckets were made from
    std::vector<std::int64_t> offsets;  // where each member starts in the flat buffer
    std::int64_t numel = 0;
};

// Groups `tensors` by dtype, keeping their order, into buckets of at most `cap_bytes`.
inline std::vector<bucket> make_buckets(const std::vector<Tensor>& tensors, std::size_t cap_bytes) {
    std::vector<bucket> done;
    std::vector<bucket> open;  // the bucket being filled, one per dtype
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        auto it = std::find_if(open.begin(), open.end(), [&](const bucket& b) { return b.dtype == t.scalar_type(); });
        if (it == open.end()) {
            open.push_back({t.scalar_type(), {}, {}, 0});
            it = open.end() - 1;
        }
        const std::size_t bytes = static_cast<std::size_t>(it->numel + t.numel()) * t.element_size();
        if (!it->members.empty() && bytes > cap_bytes) {
            done.push_back(std::move(*it));
            *it = bucket{t.scalar_type(), {}, {}, 0};
        }
        it->members.push_back(i);
        it->offsets.push_back(it->numel);
        it->numel += t.numel();
    }
    for (auto& b : open) done.push_back(std::move(b));
    return done;
}

// The view of member k of a bucket inside its flat buffer, in the member's shape.
inline Tensor member_view(const Tensor& flat, const bucket& b, std::size_t k, const Tensor& member) {
    return flat.narrow(0, b.offsets[k], member.numel()).view(member.sizes());
}

// Sends rank 0's `tensors` to every rank, one broadcast per bucket; writes them only once every
// bucket has arrived.
inline void broadcast_tensors(ProcessGroupMPI& group, const std::vector<Tensor>& tensors,
                              const std::vector<bucket>& buckets) {
    NoGradGuard no_grad;
    std::vector<Tensor> flats;
    for (const bucket& b : buckets) {
        Tensor flat = empty({b.numel}, TensorOptions().dtype(b.dtype));
        if (group.get_rank() == 0)
            for (std::size_t k = 0; k < b.members.size(); ++k)
                member_view(flat, b, k, tensors[b.members[k]]).copy_(tensors[b.members[k]]);
        group.broadcast(flat, 0);
        flats.push_back(std::move(flat));
    }
    if (group.get_rank() == 0) return;
    for (std::size_t i = 0; i < buckets.size(); ++i)
        for (std::size_t k = 0; k < buckets[i].members.size(); ++k) {
            const Tensor& t = tensors[buckets[i].members[k]];
            Tensor(t).copy_(member_view(flats[i], buckets[i], k, t));
        }
}

// Averages the gradients of `params` across the group's ranks, bucket by bucket.
class gradient_reducer : public std::enable_shared_from_this<gradient_reducer> {
public:
    gradient_reducer(std::shared_ptr<ProcessGroupMPI> group, std::vector<Tensor> params, std::size_t cap_bytes)
        : group_(std::move(group)), params_(std::move(params)), buckets_(make_buckets(params_, cap_bytes)) {}

    const std::vector<bucket>& buckets() const { return buckets_; }

    // Called by the node of each forward output that a backward pass reaches: queues the
    // averaging once per pass. The token lives in the queued callback: while the pass holds it
    // (queued or running) the averaging is not queued again; a pass that fails drops it.
    void queue_after_backward() {
        if (!pending_.expired()) return;
        auto token = std::make_shared<bool>(true);
        pending_ = token;
        autograd::queue_callback([self = shared_from_this(), token] { self->average_gradients(); });
    }

    void average_gradients() {
        if (group_->get_world_size() == 1) return;  // each gradient is its own average
        NoGradGuard no_grad;
        std::vector<Tensor> flats;
        flats.reserve(buckets_.size());
        for (const bucket& b : buckets_) {
            // Each member's gradient, then one flag per member: 1 where this rank has a gradient.
            const auto count = static_cast<std::int64_t>(b.members.size());
            Tensor flat = empty({b.numel + count}, TensorOptions().dtype(b.dtype));
            Tensor flags = flat.narrow(0, b.numel, count);
            flags.zero_();
            for (std::size_t k = 0; k < b.members.size(); ++k) {
                const Tensor& param = params_[b.members[k]];
                const Tensor grad = param.grad();
                Tensor slot = member_view(flat, b, k, param);
                if (grad.defined()) {
                    slot.copy_(grad);
                    flags.narrow(0, static_cast<std::int64_t>(k), 1).fill_(1);
                } else {
                    slot.zero_();
                }
            }
            flats.push_back(std::move(flat));
        }
        // Every bucket reduced before any .grad is written: a failure leaves them all local.
        // (On one rank the average is the buffer itself.)
        for (Tensor& flat : flats)
            if (Tensor average = group_->reduced(flat, ReduceOp::AVG); average.defined()) flat = std::move(average);
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            const bucket& b = buckets_[i];
            const Tensor flags = flats[i].narrow(0, b.numel, static_cast<std::int64_t>(b.members.size())).to(kDouble);
            const double* used = flags.data_ptr<double>();
            for (std::size_t k = 0; k < b.members.size(); ++k) {
                if (used[k] == 0) continue;  // no rank has a gradient: .grad stays undefined everywhere
                const Tensor& param = params_[b.members[k]];
                Tensor average = member_view(flats[i], b, k, param);
                if (param.grad().defined()) param.grad().copy_(average);
                else param.mutable_grad() = average.clone();
            }
        }
    }

private:
    std::shared_ptr<ProcessGroupMPI> group_;
    std::vector<Tensor> params_;
    std::vector<bucket> buckets_;
    std::weak_ptr<bool> pending_;
};

// The identity node that forward puts after the module's output: its backward passes the
// gradient through and queues the averaging. A Node rather than a custom Function<T>: the
// context of a Function keeps tensors, numbers and strings (IValue), not the reducer it must call.
struct DistributedDataParallelBackward final : autograd::Node {
    explicit DistributedDataParallelBackward(std::shared_ptr<gradient_reducer> r) : reducer(std::move(r)) {}
    variable_list apply(variable_list&& grads) override {
        reducer->queue_after_backward();
        return std::move(grads);
    }
    std::string name() const override { return "DistributedDataParallelBackward"; }
    std::shared_ptr<gradient_reducer> reducer;
};

}  // namespace detail

// Wraps a module (a holder such as nn::Sequential or a CTGRAD_MODULE, or a shared_ptr to one)
// for data-parallel training over `process_group`. Constructing it is a collective: every rank
// must wrap a module with the same parameters and buffers (checked: an Error on every rank
// names the first that differs), and rank 0's values are copied to all.
template <class ModuleType>
class DistributedDataParallel {
public:
    DistributedDataParallel(ModuleType module, std::shared_ptr<ProcessGroupMPI> process_group,
                            DistributedDataParallelOptions options = {})
        : module_(std::move(module)), group_(std::move(process_group)), options_(options) {
        if (!group_) throw Error("DistributedDataParallel: the process group is null");
        if (!(options_.bucket_cap_mb() > 0))
            throw Error("DistributedDataParallel: bucket_cap_mb must be positive, got " +
                        std::to_string(options_.bucket_cap_mb()));
        const auto named_parameters = module_->named_parameters();
        const auto named_buffers = module_->named_buffers();
        try {
            check_same_on_every_rank(named_parameters, "parameter");
            check_same_on_every_rank(named_buffers, "buffer");
        } catch (const Error& e) {
            throw Error(std::string("DistributedDataParallel: the ranks' modules differ: ") + e.what());
        }
        const auto cap = static_cast<std::size_t>(options_.bucket_cap_mb() * 1024 * 1024);
        parameters_ = named_parameters.values();
        buffers_ = named_buffers.values();
        buffer_buckets_ = detail::make_buckets(buffers_, cap);
        detail::broadcast_tensors(*group_, parameters_, detail::make_buckets(parameters_, cap));
        detail::broadcast_tensors(*group_, buffers_, buffer_buckets_);
        std::vector<Tensor> trained;
        for (const Tensor& p : parameters_)
            if (p.requires_grad()) trained.push_back(p);
        reducer_ = std::make_shared<detail::gradient_reducer>(group_, std::move(trained), cap);
    }

    // The module's forward, whose output's backward averages the gradients across the ranks.
    template <class... Args>
    Tensor forward(Args&&... args) {
        using result_t = decltype(module_->forward(std::forward<Args>(args)...));
        static_assert(std::is_convertible_v<result_t, Tensor>,
                      "DistributedDataParallel: the wrapped module's forward must return a Tensor");
        if (options_.broadcast_buffers() && !buffers_.empty())
            detail::broadcast_tensors(*group_, buffers_, buffer_buckets_);
        Tensor output = module_->forward(std::forward<Args>(args)...);
        if (!output.defined() || !output.requires_grad() || !GradMode::is_enabled()) return output;
        Tensor through = output.detach();
        autograd::record<detail::DistributedDataParallelBackward>(through, {&output}, reducer_);
        return through;
    }
    template <class... Args>
    Tensor operator()(Args&&... args) {
        return forward(std::forward<Args>(args)...);
    }

    // Averages the .grad of the parameters across the ranks now: what a backward pass through
    // forward's output does at its end. For gradients computed without going through forward.
    void average_gradients() { reducer_->average_gradients(); }

    ModuleType& module() { return module_; }
    const ModuleType& module() const { return module_; }
    std::vector<Tensor> parameters() const { return parameters_; }
    const std::shared_ptr<ProcessGroupMPI>& process_group() const { return group_; }
    const DistributedDataParallelOptions& options() const { return options_; }
    // How many allreduces average the gradients after each backward pass.
    std::size_t gradient_bucket_count() const { return reducer_->buckets().size(); }

private:
    // One small collective for the count, then one per tensor: the first difference names the
    // tensor (by this rank's name for it) and every rank's dtype and shape.
    template <class Dict>
    void check_same_on_every_rank(const Dict& named, const char* kind) {
        using call = detail::call_description;
        group_->agree("check", call::check, nullptr, static_cast<std::int64_t>(named.size()),
                      std::string("number of ") + kind + "s");
        std::size_t i = 0;
        for (const auto& item : named) {
            group_->agree("check", call::check, &item.value(), 0,
                          std::string(kind) + " " + std::to_string(i++) + " '" + item.key() + "'");
        }
    }

    ModuleType module_;
    std::shared_ptr<ProcessGroupMPI> group_;
    DistributedDataParallelOptions options_;
    std::vector<Tensor> parameters_;
    std::vector<Tensor> buffers_;
    std::vector<detail::bucket> buffer_buckets_;
    std::shared_ptr<detail::gradient_reducer> reducer_;
};

}  // namespace ctgrad::distributed

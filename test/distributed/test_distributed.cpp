// ctgrad::distributed on an MPI job of two or more ranks (run_mpi.py starts it; meson's suite
// 'distributed'): ProcessGroupMPI's collectives, their errors on every rank, the timeout, and
// DistributedDataParallel against one process training on the concatenated batches.
// Every rank runs every test case, in the same order: the collectives inside them pair up.
#define DOCTEST_CONFIG_IMPLEMENT
#include "../support/errors.hpp"
#include <ctgrad/distributed.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

namespace {

using ctgrad::Tensor;
using ctgrad::distributed::DistributedDataParallel;
using ctgrad::distributed::DistributedDataParallelOptions;
using ctgrad::distributed::ProcessGroupMPI;
using ctgrad::distributed::ReduceOp;
namespace nn = ctgrad::nn;

#define CHECK_ERROR_HAS(call, text) CTGRAD_CHECK_ERROR(call, text)

// The group every test case shares. Its timeout is far below meson's (300 s), so that a test
// that lets the ranks fall out of step fails with the Error rather than hanging.
const std::shared_ptr<ProcessGroupMPI>& group() {
    static const auto shared = ProcessGroupMPI::createProcessGroupMPI(
        ProcessGroupMPI::Options().timeout(std::chrono::seconds(60)));
    return shared;
}
ProcessGroupMPI& world() { return *group(); }
int rank() { return world().get_rank(); }
int size() { return world().get_world_size(); }

// Whether `t` holds the same bits on every rank: rank 0's copy, broadcast, compared here.
bool same_on_every_rank(const Tensor& t) {
    Tensor from_rank_0 = t.detach().clone();
    world().broadcast(from_rank_0, 0);
    return t.equal(from_rank_0);
}

// The largest |a - b| / (atol + rtol * |b|): at most 1 when a and b agree to the tolerance.
double tolerance_used(const Tensor& a, const Tensor& b, double rtol, double atol) {
    const Tensor ad = a.detach().to(ctgrad::kDouble), bd = b.detach().to(ctgrad::kDouble);
    return ((ad - bd).abs() / (bd.abs() * rtol + atol)).max().item<double>();
}

// A tensor whose storage says kCUDA (over host memory: only its device is looked at), so that
// the refusal of other devices is tested on machines without a GPU.
Tensor tensor_claiming_cuda() {
    auto data = std::make_shared<std::vector<float>>(3, 1.0f);
    auto impl = std::make_shared<ctgrad::TensorImpl>();
    impl->sizes = {3};
    impl->strides = {1};
    impl->dtype = ctgrad::kFloat;
    impl->storage = ctgrad::Storage::wrap(data->data(), 3 * sizeof(float), data, ctgrad::Device(ctgrad::kCUDA, 0));
    return Tensor(std::move(impl));
}

TEST_CASE("ProcessGroupMPI: rank and world size") {
    CHECK(size() >= 2);
    CHECK(rank() >= 0);
    CHECK(rank() < size());
}

TEST_CASE("ProcessGroupMPI: allreduce sums and averages every dtype, in place, through views") {
    const double r = rank();
    const double n = size();
    const double sum_of_ranks = n * (n - 1) / 2;
    SUBCASE("float sum") {
        Tensor t = ctgrad::tensor({1.0f, 2.0f, 3.0f}) + static_cast<float>(r);
        const Tensor same_handle = t;
        world().allreduce(t);
        CHECK(t.is_same(same_handle));
        CHECK(t.equal(ctgrad::tensor({1.0f, 2.0f, 3.0f}) * static_cast<float>(n) + static_cast<float>(sum_of_ranks)));
    }
    SUBCASE("double average") {
        Tensor t = ctgrad::full({2, 3}, r, ctgrad::kDouble);
        world().allreduce(t, ReduceOp::AVG);
        CHECK(t.equal(ctgrad::full({2, 3}, sum_of_ranks / n, ctgrad::kDouble)));
    }
    SUBCASE("int64 sum") {
        Tensor t = ctgrad::full({4}, static_cast<std::int64_t>(rank() + 1), ctgrad::kLong);
        world().allreduce(t);
        CHECK(t.equal(ctgrad::full({4}, static_cast<std::int64_t>(n * (n + 1) / 2), ctgrad::kLong)));
    }
    SUBCASE("bool sum is a logical or") {
        Tensor t = ctgrad::tensor({rank() == 0, false});
        world().allreduce(t);
        CHECK(t.equal(ctgrad::tensor({true, false})));
    }
    SUBCASE("a non-contiguous view is written through") {
        Tensor base = ctgrad::zeros({3, 2});
        Tensor view = base.t();  // [2, 3], strides (1, 2)
        Tensor(view).copy_(ctgrad::full({2, 3}, static_cast<float>(r + 1)));
        world().allreduce(view);
        CHECK(base.equal(ctgrad::full({3, 2}, static_cast<float>(n * (n + 1) / 2))));
    }
    SUBCASE("a parameter (a leaf that requires grad) is written as data") {
        Tensor w = ctgrad::full({2}, static_cast<float>(r), ctgrad::requires_grad());
        world().allreduce(w, ReduceOp::AVG);
        CHECK(w.is_leaf());
        CHECK(w.requires_grad());
        CHECK(w.detach().equal(ctgrad::full({2}, static_cast<float>(sum_of_ranks / n))));
    }
    SUBCASE("an empty tensor") {
        Tensor t = ctgrad::zeros({0, 3});
        world().allreduce(t);
        CHECK(t.numel() == 0);
    }
}

TEST_CASE("ProcessGroupMPI: broadcast and barrier") {
    for (int src = 0; src < size(); ++src) {
        CAPTURE(src);
        Tensor t = ctgrad::arange(6, ctgrad::kDouble).view({2, 3}) * (rank() + 1);
        world().broadcast(t, src);
        CHECK(t.equal(ctgrad::arange(6, ctgrad::kDouble).view({2, 3}) * (src + 1)));
    }
    world().barrier();
}

TEST_CASE("ProcessGroupMPI: a call the ranks disagree on is the same Error on every rank, and changes nothing") {
    SUBCASE("shapes: both ranks' shapes named") {
        Tensor t = rank() == 1 ? ctgrad::ones({5, 3}) : ctgrad::ones({4, 3});
        const Tensor before = t.clone();
        CHECK_ERROR_HAS(world().allreduce(t), "ProcessGroupMPI allreduce on rank " + std::to_string(rank()));
        CHECK_ERROR_HAS(world().allreduce(t),
                        "the ranks' tensors differ in dtype or shape: rank 0 has Float [4, 3], rank 1 has Float [5, 3]");
        CHECK(t.equal(before));
    }
    SUBCASE("dtypes") {
        Tensor t = rank() == 1 ? ctgrad::ones({2}, ctgrad::kDouble) : ctgrad::ones({2});
        CHECK_ERROR_HAS(world().broadcast(t, 0), "rank 0 has Float [2], rank 1 has Double [2]");
        CHECK(t.equal(ctgrad::ones({2}, t.scalar_type())));
    }
    SUBCASE("collectives") {
        Tensor t = ctgrad::ones({2});
        auto call = [&] {
            if (rank() == 1) world().barrier();
            else world().allreduce(t);
        };
        CHECK_ERROR_HAS(call(), "the ranks called different collectives: rank 0 called allreduce, rank 1 called barrier");
        CHECK(t.equal(ctgrad::ones({2})));
    }
    SUBCASE("reduce ops and roots") {
        Tensor t = ctgrad::ones({2});
        CHECK_ERROR_HAS(world().allreduce(t, rank() == 1 ? ReduceOp::AVG : ReduceOp::SUM),
                        "the ranks disagree on the reduce op: rank 0 asked for SUM, rank 1 asked for AVG");
        CHECK_ERROR_HAS(world().broadcast(t, rank() == 1 ? 1 : 0),
                        "the ranks disagree on the source rank: rank 0 broadcasts from rank 0, rank 1 broadcasts from rank 1");
        CHECK(t.equal(ctgrad::ones({2})));
    }
    SUBCASE("a tensor on another device than the CPU, on one rank") {
        Tensor t = rank() == 1 ? tensor_claiming_cuda() : ctgrad::ones({3});
        CHECK_ERROR_HAS(world().allreduce(t), "rank 1 passed Float [3] on cuda:0, but ProcessGroupMPI takes CPU tensors only");
    }
    SUBCASE("an undefined tensor, on one rank") {
        Tensor t = rank() == 1 ? Tensor() : ctgrad::ones({3});
        CHECK_ERROR_HAS(world().allreduce(t), "rank 1 passed an undefined tensor");
    }
    SUBCASE("bad input on every rank") {
        Tensor longs = ctgrad::ones({2}, ctgrad::kLong);
        CHECK_ERROR_HAS(world().allreduce(longs, ReduceOp::AVG), "ReduceOp::AVG needs a floating-point tensor, got Long [2]");
        Tensor t = ctgrad::ones({2});
        CHECK_ERROR_HAS(world().broadcast(t, size()), "src " + std::to_string(size()) + " is not a rank of this group");
        CHECK(t.equal(ctgrad::ones({2})));
    }
    // The group is still in step after all of these.
    Tensor t = ctgrad::ones({1});
    world().allreduce(t);
    CHECK(t.item<float>() == static_cast<float>(size()));
}

TEST_CASE("ProcessGroupMPI: a rank that never joins makes the others time out with an Error, not hang") {
    // A group of its own with a short timeout; rank 1 fails before its allreduce (it skips it).
    auto group = ProcessGroupMPI::createProcessGroupMPI(ProcessGroupMPI::Options().timeout(std::chrono::milliseconds(500)));
    if (rank() == 0) {
        Tensor t = ctgrad::full({3}, 7.0f);
        const auto start = std::chrono::steady_clock::now();
        CHECK_ERROR_HAS(group->allreduce(t), "ProcessGroupMPI allreduce on rank 0 of " + std::to_string(size()) +
                                                 ": timed out after 0.5 s: the other ranks did not join");
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
        CHECK(t.equal(ctgrad::full({3}, 7.0f)));
        // Its ranks are out of step now: the group refuses further collectives at once.
        CHECK_ERROR_HAS(group->barrier(), "this process group can no longer be used: allreduce timed out");
    }
    world().barrier();  // the other groups are unaffected
}

// --- DistributedDataParallel ---------------------------------------------------------------

// Seed 2's Step 5 data: (x, x^2, x^3) features of 2000 points of [-pi, pi], targets sin(x).
struct Step5Data {
    Tensor xx, y;
    Step5Data() {
        const Tensor x = ctgrad::linspace(-std::numbers::pi, std::numbers::pi, 2000);
        y = ctgrad::sin(x);
        xx = x.unsqueeze(-1).pow(ctgrad::tensor({1, 2, 3}));
    }
    // This rank's equal share of the batch.
    Tensor shard(const Tensor& t) const {
        const std::int64_t n = t.size(0) / size();
        return t.narrow(0, rank() * n, n);
    }
};

nn::Sequential step5_model() {
    return nn::Sequential(nn::Linear(3, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)));
}

// One process's copy of `params`' values, in a fresh model to train on the whole batch.
void copy_parameters(const std::vector<Tensor>& from, const std::vector<Tensor>& to) {
    ctgrad::NoGradGuard no_grad;
    REQUIRE(from.size() == to.size());
    for (std::size_t i = 0; i < from.size(); ++i) Tensor(to[i]).copy_(from[i]);
}

// Tolerances of the comparisons with one process. The two runs add the same float32 products in
// a different order: one process sums the loss's gradient over all samples at once; each rank
// sums over its share and the allreduce adds the shares (and divides by the world size, a power
// of two for 2 ranks: exact). Each gradient so differs by a few float32 roundings, about 1e-7
// relative, and every step adds that to the parameters (measured, 2 ranks, AVX-512 build: 1.9e-7
// relative after the 50 SGD steps, 1.6e-7 after the 100 Adam steps below). 1e-5 relative leaves
// a factor of 50 for other vector widths and summation orders; the absolute part covers
// parameters that pass near zero.
constexpr double rtol = 1e-5;
constexpr double atol = 1e-6;

TEST_CASE("DistributedDataParallel: seed 2's Step 5 on N ranks equals one process on the concatenated batches") {
    // Different initial parameters on every rank: the wrapper starts them all from rank 0's.
    ctgrad::manual_seed(100 + rank());
    nn::Sequential model = step5_model();
    DistributedDataParallel ddp(model, group());
    for (const Tensor& p : model->parameters()) CHECK(same_on_every_rank(p));

    nn::Sequential single = step5_model();
    copy_parameters(model->parameters(), single->parameters());
    std::vector<Tensor> initial;
    for (const Tensor& p : model->parameters()) initial.push_back(p.detach().clone());

    const Step5Data data;
    // MSELoss(sum) as the seed: the ranks' gradients are averaged, so each rank's sum over its
    // share equals, on average, the whole batch's sum divided by the world size.
    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
    const double learning_rate = 1e-6;
    for (int step = 0; step < 50; ++step) {
        const Tensor loss = loss_fn(ddp(data.shard(data.xx)), data.shard(data.y));
        model->zero_grad();
        loss.backward();
        const Tensor whole = loss_fn(single->forward(data.xx), data.y) / size();
        single->zero_grad();
        whole.backward();
        ctgrad::NoGradGuard no_grad;
        for (auto& p : model->parameters()) p -= learning_rate * p.grad();
        for (auto& p : single->parameters()) p -= learning_rate * p.grad();
    }
    const auto params = model->parameters();
    const auto reference = single->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
        CAPTURE(i);
        CHECK(same_on_every_rank(params[i]));
        const double used = tolerance_used(params[i], reference[i], rtol, atol);
        MESSAGE("parameter " << i << ": used " << used << " of the tolerance");
        CHECK(used <= 1);
        // The steps moved the parameters far beyond the tolerance: the check can fail.
        CHECK(tolerance_used(params[i], initial[i], rtol, atol) > 100);
    }
}

TEST_CASE("DistributedDataParallel: seed 0's curve fit with Adam and a mean loss over equal shares") {
    ctgrad::manual_seed(0);
    Tensor w = ctgrad::randn({3, 1}).clone().requires_grad_(true);
    struct CurveImpl : nn::Module {
        explicit CurveImpl(const Tensor& w0) { w = register_parameter("w", w0.detach().clone()); }
        Tensor forward(const Tensor& x) {
            return ctgrad::stack({x * x, x, ctgrad::ones_like(x)}, 1).matmul(w).squeeze(1);
        }
        Tensor w;
    };
    auto curve = std::make_shared<CurveImpl>(w);
    DistributedDataParallel ddp(curve, group());
    ctgrad::optim::Adam opt({curve->w}, ctgrad::optim::AdamOptions(0.1));
    ctgrad::optim::Adam single_opt({w}, ctgrad::optim::AdamOptions(0.1));
    namespace F = ctgrad::nn::functional;
    for (int step = 0; step < 100; ++step) {
        // Every rank draws the whole batch (the same numbers: the same seed) and trains on its share.
        ctgrad::manual_seed(1000 + step);
        const Tensor x = ctgrad::rand({100 * size()}) * 20 - 10;
        const Tensor y = 5 * x * x + 3;
        const Tensor mine = x.narrow(0, 100 * rank(), 100), my_y = y.narrow(0, 100 * rank(), 100);
        opt.zero_grad();
        F::mse_loss(ddp(mine), my_y).backward();
        opt.step();
        single_opt.zero_grad();
        F::mse_loss(ctgrad::stack({x * x, x, ctgrad::ones_like(x)}, 1).matmul(w).squeeze(1), y).backward();
        single_opt.step();
    }
    CHECK(same_on_every_rank(curve->w));
    const double used = tolerance_used(curve->w, w, rtol, atol);
    MESSAGE("w: used " << used << " of the tolerance");
    CHECK(used <= 1);
}

struct TwoPathsImpl : nn::Module {
    TwoPathsImpl() {
        a = register_parameter("a", ctgrad::ones({2}));
        b = register_parameter("b", ctgrad::ones({2}));
        c = register_parameter("c", ctgrad::ones({1}));  // used by no rank
    }
    Tensor forward(const Tensor& x, bool use_b) {
        Tensor out = (a * x).sum();
        return use_b ? out + (b * x).sum() : out;
    }
    Tensor a, b, c;
};
CTGRAD_MODULE(TwoPaths);

TEST_CASE("DistributedDataParallel: a parameter unused on a rank counts as a zero gradient there") {
    TwoPaths model;
    DistributedDataParallel ddp(model, group());
    const Tensor x = ctgrad::full({2}, static_cast<float>(rank() + 1));
    // Only rank 0 uses b.
    ddp(x, rank() == 0).backward();
    const float n = static_cast<float>(size());
    CHECK(model->a.grad().equal(ctgrad::full({2}, (n + 1) / 2)));  // the mean of 1 .. n
    REQUIRE(model->b.grad().defined());
    CHECK(model->b.grad().equal(ctgrad::full({2}, 1 / n)));  // rank 0's 1, zeros elsewhere
    CHECK(!model->c.grad().defined());  // no rank has one: undefined on all
}

// A function whose backward fails while `fail` is set: a failed pass must not keep the wrapper
// from averaging on the next one.
struct FailsInBackward : ctgrad::autograd::Function<FailsInBackward> {
    static Tensor forward(ctgrad::autograd::AutogradContext*, Tensor x) { return x.clone(); }
    static ctgrad::autograd::variable_list backward(ctgrad::autograd::AutogradContext*,
                                                    ctgrad::autograd::variable_list g) {
        if (fail) throw ctgrad::Error("FailsInBackward: failed");
        return {g[0]};
    }
    static inline bool fail = false;
};

struct ScaleImpl : nn::Module {
    ScaleImpl() { s = register_parameter("s", ctgrad::ones({3})); }
    Tensor forward(const Tensor& x) { return FailsInBackward::apply(s * x).sum(); }
    Tensor s;
};
CTGRAD_MODULE(Scale);

TEST_CASE("DistributedDataParallel: one averaging per backward pass, none for a pass that failed") {
    Scale model;
    DistributedDataParallel ddp(model, group());
    const Tensor x = ctgrad::full({3}, static_cast<float>(rank() + 1));
    FailsInBackward::fail = true;
    CHECK_ERROR_HAS(ddp(x).backward(), "FailsInBackward: failed");
    CHECK(!model->s.grad().defined());
    FailsInBackward::fail = false;
    // Two forwards in one pass: the gradients are averaged once, after the pass.
    (ddp(x) + ddp(x)).backward();
    const float n = static_cast<float>(size());
    CHECK(model->s.grad().equal(ctgrad::full({3}, n + 1)));  // 2 * mean(1 .. n)
}

struct MixedImpl : nn::Module {
    MixedImpl() {
        w1 = register_parameter("w1", ctgrad::ones({1000}));
        w2 = register_parameter("w2", ctgrad::ones({3000}));
        d = register_parameter("d", ctgrad::ones({10}, ctgrad::kDouble));
        frozen = register_parameter("frozen", ctgrad::ones({5}), /*requires_grad=*/false);
        steps = register_buffer("steps", ctgrad::full({1}, static_cast<std::int64_t>(rank()), ctgrad::kLong));
    }
    Tensor forward(const Tensor& x) { return (w1 * x).sum() + 2 * (w2 * x).sum() + (d * x.to(ctgrad::kDouble)).sum(); }
    Tensor w1, w2, d, frozen, steps;
};
CTGRAD_MODULE(Mixed);

TEST_CASE("DistributedDataParallel: buckets by dtype and size; buffers from rank 0") {
    // 25 MiB: one bucket of floats (w1 and w2, 16000 bytes), one of doubles. 0.01 MiB (10485
    // bytes): w2 no longer fits beside w1. The frozen parameter takes no part.
    for (const double cap_mb : {25.0, 0.01}) {
        CAPTURE(cap_mb);
        Mixed model;
        DistributedDataParallel ddp(model, group(), DistributedDataParallelOptions().bucket_cap_mb(cap_mb));
        CHECK(ddp.gradient_bucket_count() == (cap_mb == 25.0 ? 2u : 3u));
        CHECK(model->steps.item<std::int64_t>() == 0);  // rank 0's buffer, since construction
        Tensor(model->steps).fill_(rank());
        const Tensor x = ctgrad::full({1}, static_cast<float>(rank() + 1));
        const Tensor out = ddp(x);
        CHECK(model->steps.item<std::int64_t>() == 0);  // and again at every forward
        out.backward();
        const float mean = (size() + 1) / 2.0f;  // of x over the ranks
        CHECK(model->w1.grad().equal(ctgrad::full({1000}, mean)));
        CHECK(model->w2.grad().equal(ctgrad::full({3000}, 2 * mean)));
        CHECK(model->d.grad().equal(ctgrad::full({10}, static_cast<double>(mean), ctgrad::kDouble)));
        CHECK(!model->frozen.grad().defined());
    }
    CHECK_ERROR_HAS(DistributedDataParallel(Mixed(), group(), DistributedDataParallelOptions().bucket_cap_mb(0)),
                    "DistributedDataParallel: bucket_cap_mb must be positive, got 0");
}

TEST_CASE("DistributedDataParallel: ranks whose modules differ get an Error naming the shapes") {
    SUBCASE("a parameter's shape") {
        nn::Linear model(3, rank() == 1 ? 2 : 1);
        CHECK_ERROR_HAS(DistributedDataParallel(model, group()),
                        "DistributedDataParallel: the ranks' modules differ: ProcessGroupMPI check on rank " +
                            std::to_string(rank()) + " of " + std::to_string(size()) +
                            " (parameter 0 'weight'): the ranks' tensors differ in dtype or shape: rank 0 has Float "
                            "[1, 3], rank 1 has Float [2, 3]");
    }
    SUBCASE("the number of parameters") {
        nn::Linear model(nn::LinearOptions(3, 1).bias(rank() != 1));
        CHECK_ERROR_HAS(DistributedDataParallel(model, group()),
                        "(number of parameters): the ranks disagree on the count: rank 0 has 2, rank 1 has 1");
    }
    world().barrier();
}

}  // namespace

int main(int argc, char** argv) {
    const int this_rank = rank();  // starts MPI (the group finalizes it at exit)
    doctest::Context context(argc, argv);
    if (this_rank != 0) context.setOption("minimal", true);  // rank 0 reports; the others only failures
    const int failed = context.run();
    // Every rank's verdict: the job fails if one rank failed.
    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any_failed;
}

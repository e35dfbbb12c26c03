// ctgrad::distributed under mpirun (bench/run_distributed.sh): what its safety costs next to MPI
// alone, and what data parallelism adds to a training step.
//
//   allreduce/1e6 floats   ProcessGroupMPI::allreduce (agreement exchange, MPI_Iallreduce into a
//                          scratch tensor polled against the timeout, copy back) next to one
//                          MPI_Allreduce on the same buffers (target: within 1.1x)
//   allreduce/1 float      the same on one element: the fixed cost (latency) of each
//   step/...               a training step (forward, loss, zero_grad, backward, SGD step) of a
//                          model on this rank's share of a fixed global batch (strong scaling),
//                          plain (no communication: the overhead's baseline) and through
//                          DistributedDataParallel (the job's time per step)
//
// Every rank runs every benchmark for a fixed number of iterations (Google Benchmark would
// otherwise choose a count per rank from its own timings, and the ranks' collectives would no
// longer pair up); rank 0 reports, the others run with a reporter that prints nothing.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include <ctgrad/distributed.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

namespace {

namespace nn = ctgrad::nn;
namespace dist = ctgrad::distributed;
using ctgrad::Tensor;

std::shared_ptr<dist::ProcessGroupMPI>& group() {
    static std::shared_ptr<dist::ProcessGroupMPI> g;
    return g;
}

// ---- allreduce -----------------------------------------------------------------------------

// Zeros: a sum of zeros stays zero, so the numbers do not grow to infinity over the iterations.
void BM_MPI_Allreduce(benchmark::State& state) {
    const auto n = state.range(0);
    std::vector<float> send(static_cast<std::size_t>(n)), receive(static_cast<std::size_t>(n));
    for (auto _ : state) {
        MPI_Allreduce(send.data(), receive.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        benchmark::DoNotOptimize(receive.data());
    }
    state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(float)));
}

// The nonblocking collective ctgrad posts, polled as ctgrad polls it, without the agreement
// exchange and the copy: the part of ctgrad's time that is MPI's nonblocking algorithm.
void BM_MPI_Iallreduce(benchmark::State& state) {
    const auto n = state.range(0);
    std::vector<float> send(static_cast<std::size_t>(n)), receive(static_cast<std::size_t>(n));
    for (auto _ : state) {
        MPI_Request request;
        MPI_Iallreduce(send.data(), receive.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
        for (int done = 0; !done;) MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        benchmark::DoNotOptimize(receive.data());
    }
    state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(float)));
}

void BM_ctgrad_allreduce(benchmark::State& state) {
    Tensor t = ctgrad::zeros({state.range(0)});
    const auto op = state.range(1) ? dist::ReduceOp::AVG : dist::ReduceOp::SUM;
    for (auto _ : state) {
        group()->allreduce(t, op);
        benchmark::DoNotOptimize(t.data_ptr());
    }
    state.SetBytesProcessed(state.iterations() * state.range(0) * static_cast<std::int64_t>(sizeof(float)));
}

BENCHMARK(BM_MPI_Allreduce)->Arg(1000000)->Iterations(200)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MPI_Iallreduce)->Arg(1000000)->Iterations(200)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ctgrad_allreduce)->Args({1000000, 0})->Args({1000000, 1})->Iterations(200)
    ->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MPI_Allreduce)->Arg(1)->Iterations(20000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MPI_Iallreduce)->Arg(1)->Iterations(20000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ctgrad_allreduce)->Args({1, 0})->Iterations(20000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// ---- training steps ------------------------------------------------------------------------

// This rank's share of a global batch of `n`.
std::int64_t share(std::int64_t n) { return n / group()->get_world_size(); }

// Seed 2's Step 5 (Linear(3, 1) and Flatten on (x, x^2, x^3), MSELoss(sum), SGD 1e-6) on the
// rank's share of the 2000 points: 4 parameters, so the step's communication is all latency.
struct Step5 {
    nn::Sequential model{nn::Linear(3, 1), nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1))};
    Tensor xx, y;
    Step5() {
        const Tensor x = ctgrad::linspace(-std::numbers::pi, std::numbers::pi, 2000).narrow(0, 0, share(2000));
        y = ctgrad::sin(x);
        xx = x.unsqueeze(-1).pow(ctgrad::tensor({1, 2, 3}));
    }
};

// A wider model, for bandwidth: Linear(512, 1024), ReLU, Linear(1024, 512) (1.05 million
// parameters, 4.2 MB of gradients), the rank's share of a batch of 64, MSELoss (mean), SGD.
struct Wide {
    nn::Sequential model{nn::Linear(512, 1024), nn::ReLU(), nn::Linear(1024, 512)};
    Tensor x = ctgrad::randn({share(64), 512}), y = ctgrad::randn({share(64), 512});
};

void BM_step5_local(benchmark::State& state) {
    Step5 m;
    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::SGD opt(m.model->parameters(), ctgrad::optim::SGDOptions(1e-6));
    for (auto _ : state) {
        const Tensor loss = loss_fn(m.model->forward(m.xx), m.y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

void BM_step5_ddp(benchmark::State& state) {
    Step5 m;
    dist::DistributedDataParallel ddp(m.model, group());
    nn::MSELoss loss_fn(nn::MSELossOptions().reduction(ctgrad::kSum));
    ctgrad::optim::SGD opt(ddp.parameters(), ctgrad::optim::SGDOptions(1e-6));
    for (auto _ : state) {
        const Tensor loss = loss_fn(ddp(m.xx), m.y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

void BM_wide_local(benchmark::State& state) {
    ctgrad::manual_seed(0);
    Wide m;
    nn::MSELoss loss_fn;
    ctgrad::optim::SGD opt(m.model->parameters(), ctgrad::optim::SGDOptions(1e-3));
    for (auto _ : state) {
        const Tensor loss = loss_fn(m.model->forward(m.x), m.y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

void BM_wide_ddp(benchmark::State& state) {
    ctgrad::manual_seed(0);
    Wide m;
    dist::DistributedDataParallel ddp(m.model, group());
    nn::MSELoss loss_fn;
    ctgrad::optim::SGD opt(ddp.parameters(), ctgrad::optim::SGDOptions(1e-3));
    for (auto _ : state) {
        const Tensor loss = loss_fn(ddp(m.x), m.y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

BENCHMARK(BM_step5_local)->Iterations(5000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_step5_ddp)->Iterations(5000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_wide_local)->Iterations(100)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_wide_ddp)->Iterations(100)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The reporter of ranks other than 0: they run the same benchmarks (their collectives pair with
// rank 0's) and print nothing.
class SilentReporter : public benchmark::BenchmarkReporter {
public:
    bool ReportContext(const Context&) override { return true; }
    void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
    group() = dist::ProcessGroupMPI::createProcessGroupMPI();
    // With --benchmark_out=FILE the other ranks must not open FILE too (Google Benchmark opens,
    // and so truncates, it whatever the reporter): they drop the flags that name it.
    const bool reports = group()->get_rank() == 0;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i)
        if (reports || !std::string_view(argv[i]).starts_with("--benchmark_out")) args.push_back(argv[i]);
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (reports) {
        benchmark::AddCustomContext("mpi_ranks", std::to_string(group()->get_world_size()));
        benchmark::RunSpecifiedBenchmarks();
    } else {
        SilentReporter silent;
        benchmark::RunSpecifiedBenchmarks(&silent);
    }
    benchmark::Shutdown();
    group().reset();
}

// The static layer's cubic fit on the GPU, next to the two things it should be compared with:
//
//   copy      cudaMemcpyAsync device-to-device of x and y (the same 2 N 4 bytes): what the memory
//             system moves per second. A copy reads and writes, so its bytes/s count both
//             (2 x the bytes copied), the convention of bandwidth tests.
//   hand      a hand-written single-pass kernel: grid-stride loop, five float sums per thread,
//             warp-shuffle and shared-memory block reduction, one small kernel over the block
//             partials, the five results copied to the host.
//   ctgrad    value_and_grad(thrust::device, loss, wrt(a, b, c, d), x = xs, y = ys, ...): one
//             thrust::transform_reduce, i.e. one kernel plus Thrust's final pass and the copy of
//             the result to the host.
//
// loss = sum((a + b x + c x^2 + d x^3 - y)^2), float32, x = linspace(-pi, pi, N), y = sin(x).
// The reading methods' bytes/s count x and y read once (2 N 4 bytes). Every result is checked
// against the hand kernel accumulating in double before anything is timed.
//
// usage: static_cubic_fit [--repetitions=R] [--warmup=W] [--json=PATH] [--sizes=N,N,...]
// Exits 77 (meson's "skipped") where no GPU is found.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <ctgrad/backend/thrust.hpp>
#include <ctgrad/core/error.hpp>
#include <ctgrad/expr/core.hpp>

namespace {

void check(cudaError_t status, const char* what) {
    if (status != cudaSuccess)
        throw ctgrad::Error(std::string("static_cubic_fit: ") + what + ": " + cudaGetErrorString(status));
}

// A kernel launch reports its configuration errors only through cudaGetLastError.
void check_launch(const char* what) { check(cudaGetLastError(), what); }

namespace ce = ctgrad::expr;
constexpr ce::var<"x"> x;
constexpr ce::var<"y"> y;
constexpr ce::var<"a"> a;
constexpr ce::var<"b"> b;
constexpr ce::var<"c"> c;
constexpr ce::var<"d"> d;
constexpr auto cubic_loss = ce::sum(ce::pow<2>(a + b * x + c * ce::pow<2>(x) + d * ce::pow<3>(x) - y));

// Coefficients far from the fit, so that no partial is near zero and the check means something.
constexpr float coefficient[4] = {0.1f, -0.2f, 0.05f, 0.01f};

struct sums {
    double loss, grad[4];
};

// ---- data --------------------------------------------------------------------------------------

__global__ void fill_linspace_sin(float* xs, float* ys, std::size_t n) {
    const double step = 2 * 3.141592653589793 / static_cast<double>(n - 1);
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const float xi = static_cast<float>(-3.141592653589793 + step * static_cast<double>(i));
        xs[i] = xi;
        ys[i] = sinf(xi);
    }
}

// ---- the hand-written kernel -------------------------------------------------------------------

constexpr int block_size = 256;

// Sums five values over the block; thread 0 gets the totals.
template <class Acc>
__device__ void block_sum5(Acc (&v)[5]) {
    __shared__ Acc warp_totals[block_size / 32][5];
    for (int k = 0; k < 5; ++k)
        for (int offset = 16; offset > 0; offset /= 2) v[k] += __shfl_down_sync(0xffffffffu, v[k], offset);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0)
        for (int k = 0; k < 5; ++k) warp_totals[warp][k] = v[k];
    __syncthreads();
    if (warp == 0) {
        for (int k = 0; k < 5; ++k) v[k] = lane < block_size / 32 ? warp_totals[lane][k] : Acc(0);
        for (int k = 0; k < 5; ++k)
            for (int offset = 16; offset > 0; offset /= 2) v[k] += __shfl_down_sync(0xffffffffu, v[k], offset);
    }
}

// Per block: sum r^2, and the sums of 2 r, 2 r x, 2 r x^2, 2 r x^3 (the partials) into partial[5 block].
template <class Acc>
__global__ void __launch_bounds__(block_size)
    cubic_partials(const float* __restrict__ xs, const float* __restrict__ ys, std::size_t n, float ca, float cb,
                   float cc, float cd, Acc* __restrict__ partial) {
    Acc v[5] = {0, 0, 0, 0, 0};
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(block_size) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * block_size) {
        const Acc xi = xs[i];
        const Acc x2 = xi * xi;
        const Acc r = Acc(ca) + Acc(cb) * xi + Acc(cc) * x2 + Acc(cd) * x2 * xi - Acc(ys[i]);
        v[0] += r * r;
        v[1] += r;
        v[2] += r * xi;
        v[3] += r * x2;
        v[4] += r * x2 * xi;
    }
    block_sum5(v);
    if (threadIdx.x == 0)
        for (int k = 0; k < 5; ++k) partial[5 * blockIdx.x + k] = k == 0 ? v[k] : 2 * v[k];
}

// One block adds the per-block partials.
template <class Acc>
__global__ void __launch_bounds__(block_size) finish_partials(const Acc* __restrict__ partial, int blocks, Acc* out) {
    Acc v[5] = {0, 0, 0, 0, 0};
    for (int j = threadIdx.x; j < blocks; j += block_size)
        for (int k = 0; k < 5; ++k) v[k] += partial[5 * j + k];
    block_sum5(v);
    if (threadIdx.x == 0)
        for (int k = 0; k < 5; ++k) out[k] = v[k];
}

template <class Acc>
class hand_kernel {
public:
    explicit hand_kernel(int blocks) : blocks_(blocks) {
        check(cudaMalloc(&partial_, sizeof(Acc) * 5 * static_cast<std::size_t>(blocks)), "cudaMalloc (block partials)");
        check(cudaMalloc(&out_, sizeof(Acc) * 5), "cudaMalloc (totals)");
    }
    // A destructor cannot throw: a failed free is reported on stderr instead.
    ~hand_kernel() {
        for (Acc* p : {partial_, out_})
            if (const cudaError_t status = cudaFree(p); status != cudaSuccess)
                std::fprintf(stderr, "static_cubic_fit: cudaFree: %s\n", cudaGetErrorString(status));
    }
    hand_kernel(const hand_kernel&) = delete;
    hand_kernel& operator=(const hand_kernel&) = delete;

    sums operator()(const float* xs, const float* ys, std::size_t n) {
        cubic_partials<Acc><<<blocks_, block_size>>>(xs, ys, n, coefficient[0], coefficient[1], coefficient[2],
                                                     coefficient[3], partial_);
        check_launch("cubic_partials launch");
        finish_partials<Acc><<<1, block_size>>>(partial_, blocks_, out_);
        check_launch("finish_partials launch");
        Acc host[5];
        check(cudaMemcpy(host, out_, sizeof host, cudaMemcpyDeviceToHost), "cudaMemcpy (totals to host)");
        return {static_cast<double>(host[0]),
                {static_cast<double>(host[1]), static_cast<double>(host[2]), static_cast<double>(host[3]),
                 static_cast<double>(host[4])}};
    }

private:
    int blocks_;
    Acc* partial_ = nullptr;
    Acc* out_ = nullptr;
};

sums ctgrad_value_and_grad(const thrust::device_vector<float>& xs, const thrust::device_vector<float>& ys) {
    auto [loss, g] = ce::value_and_grad(thrust::device, cubic_loss, ce::wrt(a, b, c, d), x = xs, y = ys,
                                        a = coefficient[0], b = coefficient[1], c = coefficient[2],
                                        d = coefficient[3]);
    return {static_cast<double>(loss),
            {static_cast<double>(std::get<0>(g)), static_cast<double>(std::get<1>(g)),
             static_cast<double>(std::get<2>(g)), static_cast<double>(std::get<3>(g))}};
}

// ---- timing ------------------------------------------------------------------------------------

struct timing {
    double median_s, min_s, max_s;
    int calls_per_repetition;
};

// cudaEvents around a batch of calls on the default stream; the batch is long enough (about 2 ms)
// that the events' resolution (about 0.5 us) does not matter at N = 1e6.
timing time_calls(const std::function<void()>& call, int repetitions, int warmup) {
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    auto batch_seconds = [&](int calls) {
        check(cudaEventRecord(start), "cudaEventRecord");
        for (int i = 0; i < calls; ++i) call();
        check(cudaEventRecord(stop), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        return ms * 1e-3;
    };
    for (int i = 0; i < warmup; ++i) call();
    const double once = std::max(batch_seconds(1), 1e-7);
    const int calls = std::clamp(static_cast<int>(std::ceil(2e-3 / once)), 1, 1000);
    std::vector<double> samples;
    for (int r = 0; r < repetitions; ++r) samples.push_back(batch_seconds(calls) / calls);
    check(cudaEventDestroy(start), "cudaEventDestroy");
    check(cudaEventDestroy(stop), "cudaEventDestroy");
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t m = sorted.size();
    const double median = m % 2 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
    return {median, sorted.front(), sorted.back(), calls};
}

// ---- the program -------------------------------------------------------------------------------

struct options {
    int repetitions = 20;
    int warmup = 5;
    std::string json;
    std::vector<std::size_t> sizes = {1'000'000, 10'000'000, 100'000'000};
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](const char* name) -> const char* {
            const std::size_t len = std::strlen(name);
            return arg.compare(0, len, name) == 0 ? arg.c_str() + len : nullptr;
        };
        if (const char* v = value("--repetitions=")) o.repetitions = std::atoi(v);
        else if (const char* v = value("--warmup=")) o.warmup = std::atoi(v);
        else if (const char* v = value("--json=")) o.json = v;
        else if (const char* v = value("--sizes=")) {
            o.sizes.clear();
            for (const char* p = v; *p;) {
                char* end = nullptr;
                const double n = std::strtod(p, &end);  // accepts 1e7
                if (end == p || n < 2) throw ctgrad::Error("static_cubic_fit: bad --sizes entry in '" + arg + "'");
                o.sizes.push_back(static_cast<std::size_t>(n));
                p = *end == ',' ? end + 1 : end;
            }
        } else {
            throw ctgrad::Error("static_cubic_fit: unknown argument '" + arg +
                                "' (usage: static_cubic_fit [--repetitions=R] [--warmup=W] [--json=PATH] "
                                "[--sizes=N,N,...])");
        }
    }
    if (o.repetitions < 1 || o.warmup < 0 || o.sizes.empty())
        throw ctgrad::Error("static_cubic_fit: --repetitions must be >= 1, --warmup >= 0, --sizes non-empty");
    return o;
}

bool agrees(const sums& got, const sums& want, std::size_t n) {
    // float sums of n terms against double ones: relative 1e-3, with an absolute floor per element
    auto close = [n](double g, double w) { return std::fabs(g - w) <= 1e-3 * std::fabs(w) + 1e-6 * n; };
    bool ok = close(got.loss, want.loss);
    for (int k = 0; k < 4; ++k) ok = ok && close(got.grad[k], want.grad[k]);
    return ok;
}

struct row {
    const char* method;
    timing t;
    double bytes_per_s;  // read bytes for the reading methods, read + write for the copy
};

int run(const options& o) {
    int device_count = 0;
    const cudaError_t found = cudaGetDeviceCount(&device_count);
    if (found != cudaSuccess || device_count == 0) {
        std::printf("static_cubic_fit: no CUDA device (%s): skipped\n",
                    found != cudaSuccess ? cudaGetErrorString(found) : "0 devices");
        return 77;
    }
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    int driver = 0, runtime = 0;
    check(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
    check(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
    std::printf("device: %s (compute capability %d.%d, %d SMs, %.1f GiB), driver %d, runtime %d\n", prop.name,
                prop.major, prop.minor, prop.multiProcessorCount,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0), driver, runtime);
    std::printf("repetitions %d (median reported), warm-up calls %d, float32, cudaEvent timing\n", o.repetitions,
                o.warmup);
    std::printf("GB/s = 1e9 bytes/s. ctgrad and hand: x and y read once (2 N 4 bytes per call); "
                "copy: read + write (2 x the 2 N 4 bytes copied)\n\n");

    // enough resident blocks to fill every SM at full occupancy, no more (grid-stride loop)
    int blocks_per_sm = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, cubic_partials<float>, block_size, 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    const int blocks = std::max(1, blocks_per_sm) * prop.multiProcessorCount;
    hand_kernel<float> hand(blocks);
    hand_kernel<double> reference(blocks);

    std::vector<std::pair<std::size_t, std::vector<row>>> results;
    bool all_agree = true;
    for (const std::size_t n : o.sizes) {
        thrust::device_vector<float> xs(n), ys(n), copy_target(2 * n);
        fill_linspace_sin<<<blocks, block_size>>>(thrust::raw_pointer_cast(xs.data()), thrust::raw_pointer_cast(ys.data()),
                                                  n);
        check_launch("fill_linspace_sin launch");
        check(cudaDeviceSynchronize(), "cudaDeviceSynchronize (data)");
        const float* xp = thrust::raw_pointer_cast(xs.data());
        const float* yp = thrust::raw_pointer_cast(ys.data());
        float* cp = thrust::raw_pointer_cast(copy_target.data());
        const double read_bytes = 2.0 * static_cast<double>(n) * sizeof(float);

        const sums want = reference(xp, yp, n);
        const sums got_ctgrad = ctgrad_value_and_grad(xs, ys);
        const sums got_hand = hand(xp, yp, n);
        std::printf("N = %zu: loss (double reference) %.7g; ctgrad %.7g %s; hand %.7g %s\n", n, want.loss,
                    got_ctgrad.loss, agrees(got_ctgrad, want, n) ? "ok" : "MISMATCH", got_hand.loss,
                    agrees(got_hand, want, n) ? "ok" : "MISMATCH");
        if (!agrees(got_ctgrad, want, n) || !agrees(got_hand, want, n)) {
            all_agree = false;
            for (int k = 0; k < 4; ++k)
                std::printf("  d/d%c: reference %.7g, ctgrad %.7g, hand %.7g\n", "abcd"[k], want.grad[k],
                            got_ctgrad.grad[k], got_hand.grad[k]);
        }

        std::vector<row> rows;
        const timing copy = time_calls(
            [&] {
                check(cudaMemcpyAsync(cp, xp, n * sizeof(float), cudaMemcpyDeviceToDevice), "cudaMemcpyAsync (x)");
                check(cudaMemcpyAsync(cp + n, yp, n * sizeof(float), cudaMemcpyDeviceToDevice), "cudaMemcpyAsync (y)");
            },
            o.repetitions, o.warmup);
        rows.push_back({"copy (read+write)", copy, 2 * read_bytes / copy.median_s});
        const timing t_hand = time_calls([&] { hand(xp, yp, n); }, o.repetitions, o.warmup);
        rows.push_back({"hand-written kernel", t_hand, read_bytes / t_hand.median_s});
        const timing t_ctgrad = time_calls([&] { ctgrad_value_and_grad(xs, ys); }, o.repetitions, o.warmup);
        rows.push_back({"ctgrad value_and_grad", t_ctgrad, read_bytes / t_ctgrad.median_s});

        std::printf("| method | median time | min | max | calls/rep | GB/s | %% of copy's GB/s |\n");
        std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
        for (const row& r : rows)
            std::printf("| %s | %.2f us | %.2f us | %.2f us | %d | %.1f | %.1f%% |\n", r.method, r.t.median_s * 1e6,
                        r.t.min_s * 1e6, r.t.max_s * 1e6, r.t.calls_per_repetition, r.bytes_per_s * 1e-9,
                        100 * r.bytes_per_s / rows.front().bytes_per_s);
        std::printf("\n");
        results.emplace_back(n, std::move(rows));
    }

    if (!o.json.empty()) {
        std::FILE* f = std::fopen(o.json.c_str(), "w");
        if (!f) throw ctgrad::Error("static_cubic_fit: cannot open --json file '" + o.json + "'");
        std::fprintf(f, "{\n  \"program\": \"static_cubic_fit\",\n  \"device\": \"%s\",\n", prop.name);
        std::fprintf(f, "  \"compute_capability\": \"%d.%d\",\n  \"multiprocessors\": %d,\n", prop.major, prop.minor,
                     prop.multiProcessorCount);
        std::fprintf(f, "  \"cuda_driver\": %d,\n  \"cuda_runtime\": %d,\n", driver, runtime);
        std::fprintf(f, "  \"repetitions\": %d,\n  \"warmup\": %d,\n  \"results_agree\": %s,\n", o.repetitions,
                     o.warmup, all_agree ? "true" : "false");
        std::fprintf(f, "  \"bytes_note\": \"ctgrad and hand: bytes read (2 N 4) per second; copy: read + write "
                        "bytes (2 x the 2 N 4 bytes copied) per second\",\n");
        std::fprintf(f, "  \"sizes\": [\n");
        for (std::size_t i = 0; i < results.size(); ++i) {
            const auto& [n, rows] = results[i];
            std::fprintf(f, "    {\"n\": %zu, \"methods\": {\n", n);
            const char* keys[] = {"copy", "hand", "ctgrad"};
            for (std::size_t j = 0; j < rows.size(); ++j) {
                const row& r = rows[j];
                std::fprintf(f,
                             "      \"%s\": {\"median_s\": %.9g, \"min_s\": %.9g, \"max_s\": %.9g, "
                             "\"calls_per_repetition\": %d, \"bytes_per_s\": %.6g, \"ratio_to_copy\": %.6g}%s\n",
                             keys[j], r.t.median_s, r.t.min_s, r.t.max_s, r.t.calls_per_repetition, r.bytes_per_s,
                             r.bytes_per_s / rows.front().bytes_per_s, j + 1 < rows.size() ? "," : "");
            }
            std::fprintf(f, "    }}%s\n", i + 1 < results.size() ? "," : "");
        }
        std::fprintf(f, "  ]\n}\n");
        if (std::fclose(f) != 0) throw ctgrad::Error("static_cubic_fit: cannot write --json file '" + o.json + "'");
    }
    return all_agree ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}

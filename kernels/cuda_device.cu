// The dynamic layer's CUDA backend: the Thrust device kernels (device/thrust/tensor_kernels.hpp)
// on thrust::cuda::par, device memory from cudaMalloc behind a cache of freed blocks (Thrust's
// scratch memory too: cuda_policy.hpp), and matrix products by cuBLAS. Registered for kCUDA when
// the program starts; nothing here touches the GPU before a CUDA tensor is made, so a program
// linking it starts on a machine without one and reports ctgrad::Error only when it asks for CUDA
// memory.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <thrust/system/cuda/execution_policy.h>

#include <ctgrad/device/kernels.hpp>
#include <ctgrad/device/thrust/tensor_kernels.hpp>

#include "cuda_policy.hpp"

// The double kernels of the element-wise expressions compile in cuda_device_double.cu, beside
// this file: one translation unit holding every expression kernel took over 4 minutes of nvcc.
extern template struct ctgrad::thrust_kernels::expression_kernels<ctgrad::kernels::cuda_policy, double>;

namespace ctgrad::kernels {

namespace {

// `what` names the operation, then the call: "gemm: cublasCreate".
void check(cudaError_t status, const std::string& what) {
    if (status != cudaSuccess) throw Error("cuda " + what + ": " + cudaGetErrorString(status));
}

void check(cublasStatus_t status, const std::string& what) {
    if (status != CUBLAS_STATUS_SUCCESS) throw Error("cuda " + what + ": " + cublasGetStatusString(status));
}

int to_int(std::int64_t v, const char* what) {
    if (v < 0 || v > std::numeric_limits<int>::max())
        throw Error("cuda gemm: " + std::string(what) + " = " + std::to_string(v) + " does not fit cuBLAS's int");
    return static_cast<int>(v);
}

class cuda_kernels final : public thrust_tensor_kernels<cuda_policy> {
public:
    // cudaMalloc returns 256-byte aligned blocks; rounding sizes to that lets nearby sizes
    // share cached blocks.
    static constexpr std::size_t granularity = 256;
    static constexpr std::size_t max_cached_bytes = std::size_t(1) << 30;

    // Thrust's scratch memory comes from this backend's own cache (cuda_policy.hpp).
    cuda_kernels() : thrust_tensor_kernels<cuda_policy>(thrust::cuda::par(scratch())) { scratch().memory = this; }

    std::string backend_name() const override { return "cuda"; }

    int device_count() const override {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess) {
            (void)cudaGetLastError();  // not sticky, but leave no error behind for the next check
            return 0;
        }
        return count;
    }

    void synchronize() override {
        report_deferred();
        check(cudaDeviceSynchronize(), "synchronize: cudaDeviceSynchronize");
    }

    void* allocate(std::size_t nbytes) override {
        const std::size_t size = rounded(nbytes);
        if (size == 0) return nullptr;
        require_gpu();
        std::lock_guard<std::mutex> lock(mutex_);
        report_deferred_locked();
        auto it = free_blocks_.find(size);
        if (it != free_blocks_.end() && !it->second.empty()) {
            void* p = it->second.back();
            it->second.pop_back();
            cached_bytes_ -= size;
            return p;
        }
        void* p = nullptr;
        cudaError_t status = cudaMalloc(&p, size);
        if (status == cudaErrorMemoryAllocation) {
            // The cache may hold what is missing: give it back and try once more.
            (void)cudaGetLastError();
            release_cache_locked();
            status = cudaMalloc(&p, size);
        }
        if (status == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            throw Error("cuda: out of memory allocating " + std::to_string(nbytes) + " bytes (cudaMalloc: " +
                        cudaGetErrorString(status) + ")");
        }
        check(status, "allocate: cudaMalloc of " + std::to_string(nbytes) + " bytes");
        return p;
    }

    // Kernels run in order on the default stream, so a block freed here and handed out again
    // is never written by a later kernel before the earlier ones reading it have finished.
    void deallocate(void* p, std::size_t nbytes) noexcept override {
        if (!p) return;
        const std::size_t size = rounded(nbytes);
        std::lock_guard<std::mutex> lock(mutex_);
        if (cached_bytes_ + size <= max_cached_bytes) {
            try {
                free_blocks_[size].push_back(p);
                cached_bytes_ += size;
                return;
            } catch (...) {  // no host memory for the bookkeeping: free the block instead
            }
        }
        free_block_locked(p);
    }

    void copy_bytes_to_device(void* device_dst, const void* host_src, std::size_t nbytes) override {
        if (nbytes == 0) return;
        check(cudaMemcpy(device_dst, host_src, nbytes, cudaMemcpyHostToDevice),
              "copy_bytes_to_device: cudaMemcpy of " + std::to_string(nbytes) + " bytes");
    }

    void copy_bytes_to_host(void* host_dst, const void* device_src, std::size_t nbytes) override {
        if (nbytes == 0) return;
        check(cudaMemcpy(host_dst, device_src, nbytes, cudaMemcpyDeviceToHost),
              "copy_bytes_to_host: cudaMemcpy of " + std::to_string(nbytes) + " bytes");
    }

    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same memory read as
    // the transposed matrices, so cuBLAS gets B before A and n before m, with the same flags.
    void gemm(ScalarType dtype, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
              double alpha, const void* a, std::int64_t lda, std::int64_t stride_a, const void* b, std::int64_t ldb,
              std::int64_t stride_b, double beta, void* c, std::int64_t ldc, std::int64_t stride_c,
              std::int64_t batch) override {
        if (dtype != kFloat && dtype != kDouble)
            throw Error("cuda gemm: expected Float or Double, got " + std::string(dtype_name(dtype)));
        if (m == 0 || n == 0 || batch == 0) return;
        // An empty inner dimension has no valid leading dimensions in cuBLAS's rules; the
        // generic kernel computes C = beta * C for it.
        if (k == 0) {
            thrust_tensor_kernels<cuda_policy>::gemm(dtype, transpose_a, transpose_b, m, n, k, alpha, a, lda,
                                                     stride_a, b, ldb, stride_b, beta, c, ldc, stride_c, batch);
            return;
        }
        const int im = to_int(m, "m"), in = to_int(n, "n"), ik = to_int(k, "k");
        const int ilda = to_int(lda, "lda"), ildb = to_int(ldb, "ldb"), ildc = to_int(ldc, "ldc");
        const int ibatch = to_int(batch, "batch");
        const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
        const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
        cublasHandle_t h = handle();
        if (dtype == kFloat) {
            const float fa = static_cast<float>(alpha), fb = static_cast<float>(beta);
            check(cublasSgemmStridedBatched(h, op_b, op_a, in, im, ik, &fa, static_cast<const float*>(b), ildb,
                                            stride_b, static_cast<const float*>(a), ilda, stride_a, &fb,
                                            static_cast<float*>(c), ildc, stride_c, ibatch),
                  "gemm: cublasSgemmStridedBatched");
        } else {
            check(cublasDgemmStridedBatched(h, op_b, op_a, in, im, ik, &alpha, static_cast<const double*>(b), ildb,
                                            stride_b, static_cast<const double*>(a), ilda, stride_a, &beta,
                                            static_cast<double*>(c), ildc, stride_c, ibatch),
                  "gemm: cublasDgemmStridedBatched");
        }
        // cuBLAS reports bad arguments in its status, a failed launch only through the runtime.
        check(cudaGetLastError(), "gemm: cuBLAS kernel launch");
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::size_t, std::vector<void*>> free_blocks_;
    std::size_t cached_bytes_ = 0;
    std::string deferred_error_;  // a cudaFree that failed where nothing could be thrown
    std::once_flag gpu_checked_;
    std::string no_gpu_;
    std::once_flag handle_created_;
    cublasHandle_t handle_ = nullptr;
    cublasStatus_t handle_status_ = CUBLAS_STATUS_SUCCESS;

    static std::size_t rounded(std::size_t nbytes) { return (nbytes + granularity - 1) / granularity * granularity; }

    void require_gpu() {
        std::call_once(gpu_checked_, [this] {
            int count = 0;
            const cudaError_t status = cudaGetDeviceCount(&count);
            if (status != cudaSuccess) {
                (void)cudaGetLastError();
                no_gpu_ = std::string("cuda: no CUDA GPU found (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
            } else if (count == 0) {
                no_gpu_ = "cuda: no CUDA GPU found (cudaGetDeviceCount: 0 devices)";
            }
        });
        if (!no_gpu_.empty()) throw Error(no_gpu_);
    }

    // The handle is made on first use: creating it initialises the GPU, which the program may
    // never use.
    cublasHandle_t handle() {
        require_gpu();
        std::call_once(handle_created_, [this] { handle_status_ = cublasCreate(&handle_); });
        check(handle_status_, "gemm: cublasCreate");
        return handle_;
    }

    void free_block_locked(void* p) noexcept {
        const cudaError_t status = cudaFree(p);
        if (status != cudaSuccess && deferred_error_.empty()) {
            (void)cudaGetLastError();
            try {
                deferred_error_ = std::string("cuda deallocate: cudaFree failed: ") + cudaGetErrorString(status);
            } catch (...) {
            }
        }
    }

    void release_cache_locked() noexcept {
        for (auto& [size, blocks] : free_blocks_)
            for (void* p : blocks) free_block_locked(p);
        free_blocks_.clear();
        cached_bytes_ = 0;
    }

    void report_deferred() {
        std::lock_guard<std::mutex> lock(mutex_);
        report_deferred_locked();
    }
    void report_deferred_locked() {
        if (deferred_error_.empty()) return;
        const std::string message = std::move(deferred_error_);
        deferred_error_.clear();
        throw Error(message);
    }
};

// Registers the backend before main. The object is never destroyed: tensors in static storage
// may give their memory back after static destruction has begun, and the driver reclaims the
// cached blocks when the process ends.
struct registration {
    registration() { register_device_kernels(kCUDA, new cuda_kernels()); }
};
const registration registered;

}  // namespace

}  // namespace ctgrad::kernels

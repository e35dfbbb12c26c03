#pragma once
// Matrix products too narrow for BLAS: OpenBLAS spends more in dispatch than in arithmetic on
// them (measured: ~16 us for 2000x3 @ 3x1 with beta = 1, against ~1 us for these loops), and
// they are exactly what small Linear layers compute every step. The CPU's gemm
// (tensor_kernels.hpp) sends them here.
#include <cstdint>

#include "../../core/config.hpp"

namespace ctgrad::cpu_kernels {
inline namespace CTGRAD_SIMD_ABI {

// Products whose inner dim and column count are both at most this are plain loops.
inline constexpr std::int64_t small_product_dim = 16;
// A transposed operand this narrow times a column is a blocked loop (the weight gradient of
// Linear(k, 1), mat1^T g).
inline constexpr std::int64_t narrow_transpose_dim = 4;

template <class T, int K>
void column_product(T* __restrict c, const T* __restrict a, const T* __restrict coefficients, std::int64_t m) {
    T w[K];
    for (int p = 0; p < K; ++p) w[p] = coefficients[p];
    for (std::int64_t i = 0; i < m; ++i) {
        T acc = 0;
        for (int p = 0; p < K; ++p) acc += a[i * K + p] * w[p];
        c[i] += acc;
    }
}

// c (m x n, contiguous) += alpha * a (m x k) b (k x n), any strides, k and n at most
// small_product_dim. Each output element is summed in a register (accumulating through memory
// chains store-to-load latencies).
template <class T>
void small_product_accumulate(T* __restrict c, const T* __restrict a, std::int64_t a_rs, std::int64_t a_cs,
                              const T* __restrict b, std::int64_t b_rs, std::int64_t b_cs, std::int64_t m,
                              std::int64_t k, std::int64_t n, T alpha) {
    T coefficients[small_product_dim * small_product_dim];  // alpha * b^T: column j of b is row j
    for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t p = 0; p < k; ++p) coefficients[j * k + p] = alpha * b[p * b_rs + j * b_cs];
    // One output column over contiguous rows of a known width: the compiler vectorises across
    // rows (the seeds' Linear(3, 1) is this case).
    if (n == 1 && a_cs == 1 && a_rs == k) {
        switch (k) {
            case 1: return column_product<T, 1>(c, a, coefficients, m);
            case 2: return column_product<T, 2>(c, a, coefficients, m);
            case 3: return column_product<T, 3>(c, a, coefficients, m);
            case 4: return column_product<T, 4>(c, a, coefficients, m);
            default: break;
        }
    }
    for (std::int64_t i = 0; i < m; ++i) {
        const T* row = a + i * a_rs;
        for (std::int64_t j = 0; j < n; ++j) {
            const T* col = coefficients + j * k;
            T acc = 0;
            for (std::int64_t p = 0; p < k; ++p) acc += row[p * a_cs] * col[p];
            c[i * n + j] += acc;
        }
    }
}

// out[p] = sum over i < m of a[i * K + p] * g[i] for p < K: a^T g for a contiguous m x K matrix
// a and a contiguous column g, in blocks whose partial sums the compiler keeps in vector
// registers.
template <class T, int K>
void transposed_column(const T* __restrict a, const T* __restrict g, std::int64_t m, T* out) {
    constexpr int lanes = 8;
    for (int p = 0; p < K; ++p) {
        T acc[lanes] = {};
        std::int64_t i = 0;
        for (; i + lanes <= m; i += lanes)
            for (int l = 0; l < lanes; ++l) acc[l] += a[(i + l) * K + p] * g[i + l];
        T total = 0;
        for (int l = 0; l < lanes; ++l) total += acc[l];
        for (; i < m; ++i) total += a[i * K + p] * g[i];
        out[p] = total;
    }
}

template <class T>
void transposed_column(const T* a, const T* g, std::int64_t m, std::int64_t k, T* out) {
    switch (k) {
        case 1: return transposed_column<T, 1>(a, g, m, out);
        case 2: return transposed_column<T, 2>(a, g, m, out);
        case 3: return transposed_column<T, 3>(a, g, m, out);
        default: return transposed_column<T, 4>(a, g, m, out);
    }
}

}  // namespace CTGRAD_SIMD_ABI
}  // namespace ctgrad::cpu_kernels

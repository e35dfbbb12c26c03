#pragma once
// The Thrust backend: the fused pass is one thrust::transform_reduce over element indices, the
// element-wise passes one thrust::for_each, all written against the caller's execution policy.
// With thrust::device under nvcc this is one CUDA kernel per pass; with thrust::omp::par it runs
// the same code on CPU threads (what CI tests).
#include <thrust/device_vector.h>
#include <thrust/for_each.h>
#include <thrust/host_vector.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform_reduce.h>

#include "../../expr/kernel.hpp"
#include "../../expr/executor.hpp"
#include "../../adapt/thrust_system.hpp"

namespace ctgrad::expr {

namespace thrust_backend {

template <class S, class Targets, bool Grad, int Pass, class E, class Ctx, class Writer>
struct accumulate_element {
    E e;
    Ctx ctx;
    Writer writer;
    using totals = kernel::totals_for<S, E, Targets>;
    CTGRAD_HOST_DEVICE totals operator()(std::size_t i) const {
        Ctx local = ctx;
        local.index = i;
        totals t{};
        kernel::set_zero(t);
        kernel::accumulate_step<S, Targets, Grad, Pass>(e, local, t, writer);
        return t;
    }
};

template <class Totals>
struct add_totals {
    CTGRAD_HOST_DEVICE Totals operator()(Totals a, const Totals& b) const {
        kernel::add_into(a, b);
        return a;
    }
};

template <class S, class E, class Ctx>
struct assign_element {
    E e;
    Ctx ctx;
    S* out;
    CTGRAD_HOST_DEVICE void operator()(std::size_t i) const {
        Ctx local = ctx;
        local.index = i;
        out[i] = kernel::evaluate<S, 0>(e, local);
    }
};

template <class S, class Targets, class E, class Ctx, std::size_t R, std::size_t M>
struct scatter_element {
    E e;
    Ctx ctx;
    ctgrad::detail::array<S, R> adjoints;
    ctgrad::detail::array<S*, M> outs;
    CTGRAD_HOST_DEVICE void operator()(std::size_t i) const {
        Ctx local = ctx;
        local.index = i;
        kernel::sink<S, M, 0> g;
        kernel::set_zero(g);
        kernel::scatter<S, 0, Targets>(e, local, adjoints, g);
        for (std::size_t j = 0; j < M; ++j) outs[j][i] = g.partial[j];
    }
};

}  // namespace thrust_backend

template <class Policy>
struct executor<Policy, std::enable_if_t<thrust_backend::is_policy_v<Policy>>> {
    static constexpr bool known = true;
    static constexpr memory_space space = thrust_backend::space_of<Policy>();

    template <class S>
    using array_type = std::conditional_t<space == memory_space::device, thrust::device_vector<S>, thrust::host_vector<S>>;

    // Results that are arrays come back as Thrust vectors in the policy's memory, flattened.
    template <class S>
    static array_type<S> make_array(const shape_t& shape) {
        return array_type<S>(shape.size());
    }

    template <bool Grad, class Targets, int Pass = 1, class E, class Ctx, class Writer = kernel::no_writes>
    static auto reduce(const Policy& policy, const E& e, const Ctx& ctx, std::size_t n, const Writer& writer = {}) {
        using S = typename Ctx::scalar_type;
        using element = thrust_backend::accumulate_element<S, Targets, Grad, Pass, E, Ctx, Writer>;
        using totals = typename element::totals;
        totals zero{};
        kernel::set_zero(zero);  // a max starts at -inf and a min at +inf, not 0
        return thrust::transform_reduce(policy, thrust::counting_iterator<std::size_t>(0),
                                        thrust::counting_iterator<std::size_t>(n), element{e, ctx, writer}, zero,
                                        thrust_backend::add_totals<totals>{});
    }

    template <class E, class Ctx, class S>
    static void assign(const Policy& policy, const E& e, const Ctx& ctx, std::size_t n, S* out) {
        thrust::for_each(policy, thrust::counting_iterator<std::size_t>(0), thrust::counting_iterator<std::size_t>(n),
                         thrust_backend::assign_element<S, E, Ctx>{e, ctx, out});
    }

    template <class Targets, class E, class Ctx, class S, std::size_t R, std::size_t M>
    static void scatter(const Policy& policy, const E& e, const Ctx& ctx, std::size_t n,
                        const ctgrad::detail::array<S, R>& adjoints, const ctgrad::detail::array<S*, M>& outs) {
        thrust::for_each(policy, thrust::counting_iterator<std::size_t>(0), thrust::counting_iterator<std::size_t>(n),
                         thrust_backend::scatter_element<S, Targets, E, Ctx, R, M>{e, ctx, adjoints, outs});
    }
};

}  // namespace ctgrad::expr

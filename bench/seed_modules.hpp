#pragma once
// The seed programs' two modules, as the benchmarks run them (bench/seed_loops.cpp on the CPU,
// bench/gpu/dynamic_loops.cpp on the GPU): step 7's Polynomial3 and step 8's DynamicNet, whose
// depth Python's `random` picks each forward (examples/common/python_random.hpp, seeded by the
// caller). The examples keep their own copies so that each twin reads as one file like its seed.
#include <ctgrad/nn.hpp>
#include <ctgrad/tensor.hpp>

#include "../examples/common/python_random.hpp"

namespace seed_modules {

struct Polynomial3Impl : ctgrad::nn::Module {
    Polynomial3Impl() {
        a = register_parameter("a", ctgrad::randn({}));
        b = register_parameter("b", ctgrad::randn({}));
        c = register_parameter("c", ctgrad::randn({}));
        d = register_parameter("d", ctgrad::randn({}));
    }
    ctgrad::Tensor forward(const ctgrad::Tensor& x) { return a + b * x + c * x.pow(2) + d * x.pow(3); }
    ctgrad::Tensor a, b, c, d;
};
CTGRAD_MODULE(Polynomial3);

struct DynamicNetImpl : ctgrad::nn::Module {
    DynamicNetImpl() {
        a = register_parameter("a", ctgrad::randn({}));
        b = register_parameter("b", ctgrad::randn({}));
        c = register_parameter("c", ctgrad::randn({}));
        d = register_parameter("d", ctgrad::randn({}));
        e = register_parameter("e", ctgrad::randn({}));
    }
    ctgrad::Tensor forward(const ctgrad::Tensor& x) {
        auto y = a + b * x + c * x.pow(2) + d * x.pow(3);
        for (long i = 0, n = python::random::randint(3, 5); i < n; ++i) y = y + e * x.pow(4);
        return y;
    }
    ctgrad::Tensor a, b, c, d, e;
};
CTGRAD_MODULE(DynamicNet);

}  // namespace seed_modules

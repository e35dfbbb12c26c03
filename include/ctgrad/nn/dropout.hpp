#pragma once
// Dropout layers: nn::Dropout(p) zeroes elements, nn::Dropout2d(p) whole channels of
// [N, C, H, W] (or of one [C, H, W] sample), each with probability p while the module is
// training, scaling what is kept by 1 / (1 - p); after eval() they return their input.
// DropoutOptions(p).inplace(true) writes into the input. The noise comes from ctgrad's
// generator (manual_seed), not PyTorch's bitstream (ops/dropout.hpp).
#include <ostream>
#include <string>

#include "../core/error.hpp"
#include "functional.hpp"
#include "pimpl.hpp"

namespace ctgrad::nn {

namespace detail {
// libtorch's check in _DropoutNd::reset().
void check_dropout_options(const DropoutOptions& options, const char* layer);
}  // namespace detail

class DropoutImpl : public Module {
public:
    explicit DropoutImpl(double p) : DropoutImpl(DropoutOptions(p)) {}
    explicit DropoutImpl(const DropoutOptions& options_ = {});
    void reset() { detail::check_dropout_options(options, "Dropout"); }
    Tensor forward(Tensor input) {
        return functional::dropout(std::move(input),
                                   functional::DropoutFuncOptions().p(options.p()).inplace(options.inplace()).training(
                                       is_training()));
    }
    void pretty_print(std::ostream& stream) const override;
    DropoutOptions options;
};
CTGRAD_MODULE(Dropout);

class Dropout2dImpl : public Module {
public:
    explicit Dropout2dImpl(double p) : Dropout2dImpl(Dropout2dOptions(p)) {}
    explicit Dropout2dImpl(const Dropout2dOptions& options_ = {});
    void reset() { detail::check_dropout_options(options, "Dropout2d"); }
    Tensor forward(Tensor input) {
        return functional::dropout2d(
            std::move(input),
            functional::Dropout2dFuncOptions().p(options.p()).inplace(options.inplace()).training(is_training()));
    }
    void pretty_print(std::ostream& stream) const override;
    Dropout2dOptions options;
};
CTGRAD_MODULE(Dropout2d);

}  // namespace ctgrad::nn

// The definitions, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <ios>
#include <sstream>

namespace ctgrad::nn {

namespace detail {
CTGRAD_API void check_dropout_options(const DropoutOptions& options, const char* layer) {
    if (!(options.p() >= 0. && options.p() <= 1.)) {
        std::ostringstream p;
        p << options.p();
        throw Error(std::string(layer) + ": dropout probability has to be between 0 and 1, but got " + p.str());
    }
}
}  // namespace detail

CTGRAD_API DropoutImpl::DropoutImpl(const DropoutOptions& options_) : options(options_) { reset(); }

CTGRAD_API void DropoutImpl::pretty_print(std::ostream& stream) const {
    stream << std::boolalpha << "ctgrad::nn::Dropout(p=" << options.p() << ", inplace=" << options.inplace() << ")";
}

CTGRAD_API Dropout2dImpl::Dropout2dImpl(const Dropout2dOptions& options_) : options(options_) { reset(); }

CTGRAD_API void Dropout2dImpl::pretty_print(std::ostream& stream) const {
    stream << std::boolalpha << "ctgrad::nn::Dropout2d(p=" << options.p() << ", inplace=" << options.inplace()
           << ")";
}

}  // namespace ctgrad::nn
#endif  // CTGRAD_RUNTIME_DEFINITIONS

#pragma once
// Transforms of an example's data tensor (libtorch's torch::data::transforms):
//
//   TensorTransform<Target>  operator()(Tensor) -> Tensor, applied to each example's data;
//                            the target passes through
//   TensorLambda<Target>     a TensorTransform from a function
//   Normalize<Target>        (data - mean) / stddev
//
// Normalize(mean, stddev) takes a value each, or one per channel. One value is libtorch's
// Normalize exactly: a float tensor of shape [1], broadcast over the data. With k > 1 values,
// value c applies to channel c, the FIRST dim of the example's data ([C, H, W] before Stack, as
// torchvision's Normalize), and that dim must have k entries; libtorch instead broadcasts the k
// values against the data's LAST dim (docs/data.md).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../../core/config.hpp"
#include "../../core/error.hpp"
#include "../../tensor/array_ref.hpp"
#include "../../tensor/functions.hpp"
#include "../../tensor/tensor_data.hpp"
#include "../example.hpp"
#include "base.hpp"

namespace ctgrad::data::transforms {

template <class Target = Tensor>
class TensorTransform : public Transform<Example<Tensor, Target>, Example<Tensor, Target>> {
public:
    using E = Example<Tensor, Target>;
    using typename Transform<E, E>::InputType;
    using typename Transform<E, E>::OutputType;

    virtual Tensor operator()(Tensor input) = 0;

    OutputType apply(InputType input) override;
};

template <class Target>
typename TensorTransform<Target>::OutputType TensorTransform<Target>::apply(InputType input) {
    input.data = (*this)(std::move(input.data));
    return input;
}

template <class Target = Tensor>
class TensorLambda : public TensorTransform<Target> {
public:
    using FunctionType = std::function<Tensor(Tensor)>;

    explicit TensorLambda(FunctionType function) : function_(std::move(function)) {}

    Tensor operator()(Tensor input) override { return function_(std::move(input)); }

private:
    FunctionType function_;
};

template <class Target = Tensor>
struct Normalize : public TensorTransform<Target> {
    Normalize(ArrayRef<double> means, ArrayRef<double> stddevs);

    Tensor operator()(Tensor input) override;

    Tensor mean, stddev;
};

template <class Target>
Normalize<Target>::Normalize(ArrayRef<double> means, ArrayRef<double> stddevs) {
    if (means.empty() || stddevs.empty() || (means.size() != stddevs.size() && means.size() != 1 && stddevs.size() != 1))
        throw Error("Normalize: expected one mean and one standard deviation, or one of each per channel; got " +
                    std::to_string(means.size()) + " means and " + std::to_string(stddevs.size()) +
                    " standard deviations");
    mean = ctgrad::tensor(means.vec(), ctgrad::dtype(kFloat));
    stddev = ctgrad::tensor(stddevs.vec(), ctgrad::dtype(kFloat));
}

template <class Target>
Tensor Normalize<Target>::operator()(Tensor input) {
    const std::int64_t channels = std::max(mean.numel(), stddev.numel());
    if (channels == 1) return input.sub(mean).div(stddev);
    if (input.dim() < 1 || input.size(0) != channels)
        throw Error("Normalize: " + std::to_string(channels) + " per-channel values for data of shape " +
                    shape_str(input.sizes()) + ": expected its first dim (channels) to have " +
                    std::to_string(channels) + " entries");
    std::vector<std::int64_t> shape(static_cast<std::size_t>(input.dim()), 1);
    shape[0] = -1;
    return input.sub(mean.reshape(shape)).div(stddev.reshape(shape));
}

// The transforms of the usual example, Example<> (a Tensor target), are compiled into the
// library; the members above are defined out of their classes (not inline) so that a program
// instantiates none of them for it. Other targets instantiate them in the program, as usual.
#if !defined(CTGRAD_HEADER_ONLY) && !defined(CTGRAD_BUILDING_RUNTIME)
extern template class Transform<Example<>, Example<>>;
extern template class TensorTransform<Tensor>;
extern template class Normalize<Tensor>;
#endif

}  // namespace ctgrad::data::transforms

// The library's instantiations for Example<> (declared extern above).
#if defined(CTGRAD_BUILDING_RUNTIME)
namespace ctgrad::data::transforms {

template class Transform<Example<>, Example<>>;
template class TensorTransform<Tensor>;
template class Normalize<Tensor>;

}  // namespace ctgrad::data::transforms
#endif

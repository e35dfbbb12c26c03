// xtensor interop: to_xarray copies, as_xarray shares memory, from_xarray copies expressions
// and adopts moved buffers.
#include "../support/errors.hpp"
#include "../support/values.hpp"
#include <doctest/doctest.h>

#include <ctgrad/tensor.hpp>
#include <ctgrad/tensor/xtensor.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace {

using ctgrad::Tensor;
using ctgrad_test::check_error;
using ctgrad_test::from_values;
using ctgrad_test::values_of;

}  // namespace

TEST_CASE("to_xarray copies any layout, converting the element type") {
    const Tensor t = from_values({2, 3}, {1, 2, 3, 4, 5, 6}, ctgrad::kFloat);
    xt::xarray<float> x = t.to_xarray<float>();
    CHECK(x == xt::xarray<float>{{1, 2, 3}, {4, 5, 6}});
    x(0, 0) = 100;  // a copy: the tensor keeps its value
    CHECK(values_of(t)[0] == 1);

    CHECK(t.t().to_xarray<float>() == xt::xarray<float>{{1, 4}, {2, 5}, {3, 6}});
    CHECK(t.slice(1, 0, std::nullopt, 2).to_xarray<double>() == xt::xarray<double>{{1, 3}, {4, 6}});
    CHECK(t.select(0, 1).to_xarray<std::int64_t>() == xt::xarray<std::int64_t>{4, 5, 6});
    CHECK(from_values({3}, {0, 2, 0}, ctgrad::kBool).to_xarray<int>() == xt::xarray<int>{0, 1, 0});
    const xt::xarray<double> scalar = ctgrad::scalar_tensor(2.5, ctgrad::kDouble).to_xarray<double>();
    CHECK(scalar.dimension() == 0);
    CHECK(scalar() == 2.5);
    CHECK(ctgrad::zeros({0, 3}).to_xarray<float>().shape(0) == 0);
}

TEST_CASE("as_xarray shares the tensor's memory both ways and keeps it alive") {
    Tensor t = from_values({2, 2}, {1, 2, 3, 4}, ctgrad::kDouble);
    auto view = ctgrad::as_xarray<double>(t);
    CHECK(view == xt::xarray<double>{{1, 2}, {3, 4}});
    view(1, 0) = 30;  // write through the array: the tensor sees it
    CHECK(values_of(t) == std::vector<double>{1, 2, 30, 4});
    t.mul_(2);  // write through the tensor: the array sees it
    CHECK(view(1, 1) == 8);
    CHECK(view.data() == t.data_ptr<double>());

    // The adaptor holds the storage: the data outlives every tensor that viewed it.
    auto survivor = ctgrad::as_xarray<float>(from_values({3}, {7, 8, 9}, ctgrad::kFloat));
    CHECK(survivor == xt::xarray<float>{7, 8, 9});

    // A contiguous view of a larger tensor: the adaptor starts at the view's first element.
    const Tensor row = t.select(0, 1);
    CHECK(ctgrad::as_xarray<double>(row)(0) == 60);

    check_error([&] { ctgrad::as_xarray<float>(t); }, "as_xarray: expected scalar type Float but found Double");
    check_error([&] { ctgrad::as_xarray<double>(t.t()); }, "is not contiguous");
}

TEST_CASE("from_xarray: expressions are copied, moved arrays are adopted without a copy") {
    const xt::xarray<double> a{{1, 2, 3}, {4, 5, 6}};
    const Tensor t = ctgrad::from_xarray(a * 2.0 + 1.0);
    CHECK(t.scalar_type() == ctgrad::kDouble);
    CHECK(t.sizes().vec() == std::vector<std::int64_t>{2, 3});
    CHECK(values_of(t) == std::vector<double>{3, 5, 7, 9, 11, 13});
    const Tensor copy = ctgrad::from_xarray(a);
    CHECK(copy.data_ptr<double>() != a.data());

    CHECK(ctgrad::from_xarray(xt::xarray<float>{1.5f}).scalar_type() == ctgrad::kFloat);
    CHECK(ctgrad::from_xarray(xt::xarray<std::int64_t>{1, 2}).scalar_type() == ctgrad::kLong);
    const Tensor flags = ctgrad::from_xarray(xt::xarray<bool>{true, false, true});
    CHECK(flags.scalar_type() == ctgrad::kBool);
    CHECK(values_of(flags) == std::vector<double>{1, 0, 1});
    CHECK(ctgrad::from_xarray(xt::arange<double>(6)).numel() == 6);

    xt::xarray<float> owned{{1, 2}, {3, 4}, {5, 6}};
    const float* buffer = owned.data();
    Tensor adopted = ctgrad::from_xarray(std::move(owned));
    CHECK(adopted.data_ptr<float>() == buffer);  // no copy
    CHECK(adopted.is_contiguous());
    CHECK(values_of(adopted) == std::vector<double>{1, 2, 3, 4, 5, 6});
    adopted.add_(1.0);  // it is an ordinary tensor now
    CHECK(values_of(adopted.matmul(ctgrad::ones({2}))) == std::vector<double>{5, 9, 13});

    xt::xarray<double, xt::layout_type::column_major> fortran{{1, 2, 3}, {4, 5, 6}};
    const double* fbuffer = fortran.data();
    const Tensor columns = ctgrad::from_xarray(std::move(fortran));
    CHECK(columns.data_ptr<double>() == fbuffer);
    CHECK(columns.strides().vec() == std::vector<std::int64_t>{1, 2});
    CHECK(values_of(columns) == std::vector<double>{1, 2, 3, 4, 5, 6});

    // Round trip: tensor -> shared array -> expression -> tensor.
    const Tensor back = ctgrad::from_xarray(ctgrad::as_xarray<double>(t) - 1.0);
    CHECK(values_of(back) == std::vector<double>{2, 4, 6, 8, 10, 12});
}

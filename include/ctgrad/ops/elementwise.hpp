#pragma once
// Element-wise ops of the dynamic layer, built from the static layer's op tags: each tag's
// `apply` is the forward body and its `partial` (an expression of the operands a, b and the
// output o) is the backward formula. There is no second definition of any op's math.
//
// Forward runs the op's expression as one fused kernel of the tensors' device (the CPU's xsimd
// loop, or a GPU kernel). Backward evaluates g * partial in one of two ways:
//  - fused: when no graph is being recorded and the operands are contiguous (or scalars), the
//    simplified static expression runs as one fused kernel, or one fused sum when the gradient
//    reduces to a single element (a scalar parameter times a vector);
//  - interpreted: otherwise (create_graph, odd layouts) the same expression is evaluated with
//    tensor ops, so the backward pass is itself differentiable (higher-order gradients).
#include <cctype>
#include <string>
#include <type_traits>

#include "../core/config.hpp"
#include "../autograd/graph.hpp"
#include "../autograd/saved_variable.hpp"
#include "../tensor/copy.hpp"
#include "../tensor/functions.hpp"
#include "device_fused.hpp"

namespace ctgrad {

namespace detail {

// PyTorch's name for the backward node of each op (as grad_fn prints it).
template <class Op> inline constexpr const char* backward_name = "ElementwiseBackward";
template <> inline constexpr const char* backward_name<expr::neg_op> = "NegBackward0";
template <> inline constexpr const char* backward_name<expr::exp_op> = "ExpBackward0";
template <> inline constexpr const char* backward_name<expr::log_op> = "LogBackward0";
template <> inline constexpr const char* backward_name<expr::sin_op> = "SinBackward0";
template <> inline constexpr const char* backward_name<expr::cos_op> = "CosBackward0";
template <> inline constexpr const char* backward_name<expr::tan_op> = "TanBackward0";
template <> inline constexpr const char* backward_name<expr::tanh_op> = "TanhBackward0";
template <> inline constexpr const char* backward_name<expr::sigmoid_op> = "SigmoidBackward0";
template <> inline constexpr const char* backward_name<expr::relu_op> = "ReluBackward0";
template <> inline constexpr const char* backward_name<expr::sqrt_op> = "SqrtBackward0";
template <> inline constexpr const char* backward_name<expr::abs_op> = "AbsBackward0";
template <> inline constexpr const char* backward_name<expr::sign_op> = "SignBackward0";
template <> inline constexpr const char* backward_name<expr::heaviside_op> = "HeavisideBackward0";
template <> inline constexpr const char* backward_name<expr::ipow_op<2>> = "PowBackward0";
template <> inline constexpr const char* backward_name<expr::ipow_op<3>> = "PowBackward0";
template <> inline constexpr const char* backward_name<expr::add_op> = "AddBackward0";
template <> inline constexpr const char* backward_name<expr::sub_op> = "SubBackward0";
template <> inline constexpr const char* backward_name<expr::mul_op> = "MulBackward0";
template <> inline constexpr const char* backward_name<expr::div_op> = "DivBackward0";
template <> inline constexpr const char* backward_name<expr::pow_op> = "PowBackward1";
template <> inline constexpr const char* backward_name<expr::max_op> = "MaximumBackward0";
template <> inline constexpr const char* backward_name<expr::min_op> = "MinimumBackward0";
template <> inline constexpr const char* backward_name<expr::above_op> = "AboveBackward0";

// The op as errors name it: PyTorch's function name, read off the node name
// ("MaximumBackward0" -> "maximum", "RsubBackward1" -> "rsub").
inline std::string op_name(const char* backward) {
    std::string s(backward);
    const auto cut = s.find("Backward");
    if (cut != std::string::npos) s.resize(cut);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

template <class E, class V>
inline constexpr bool uses_v = ctgrad::detail::index_in_v<V, expr::variables_t<E>> >= 0;

// A number as a 0-d tensor of dtype `dtype` (PyTorch's wrapped number).
inline Tensor wrapped_scalar(double value, ScalarType dtype) {
    Tensor t = make_empty({}, dtype);
    dispatch_dtype(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        *reinterpret_cast<T*>(t.data_ptr()) = convert_element<T>(value);
    });
    return t;
}

// The dtype a Scalar takes next to a tensor of dtype `other` (PyTorch's wrapped number): a
// floating-point number next to an integer or bool tensor gives the default dtype, an integer
// next to a bool tensor int64; otherwise the tensor's dtype wins (an int32 tensor plus 2 stays
// int32).
inline ScalarType scalar_dtype_next_to(const Scalar& s, ScalarType other) {
    if (s.is_floating_point()) return ctgrad::is_floating_point(other) ? other : get_default_dtype_as_scalartype();
    if (s.is_integral()) return other == kBool ? kLong : other;
    return other;
}
inline Tensor scalar_operand(const Scalar& s, const Tensor& other) {
    const ScalarType d = scalar_dtype_next_to(s, other.scalar_type());
    if (is_integral(d, false)) {  // exact beyond 2^53, and wrapped to the dtype's width as a cast does
        Tensor t = make_empty({}, d);
        dispatch_dtype(d, [&](auto tag) {
            using T = typename decltype(tag)::type;
            *reinterpret_cast<T*>(t.data_ptr()) = static_cast<T>(s.to_long());
        });
        return t;
    }
    return wrapped_scalar(s.to_double(), d);
}

// The dtype categories of promotion: bool 0, integers 1, floating point 2.
inline int category(ScalarType s) { return s == kBool ? 0 : ctgrad::is_floating_point(s) ? 2 : 1; }

// PyTorch's result type of a binary op (at::result_type), for operands of two priorities:
// tensors with dims outrank 0-d tensors, whose dtype only counts when it is of a higher
// category (bool < integer < floating point) than the dimensioned one's: float32 vector *
// float64 0-d stays float32, int32 vector + int64 0-d stays int32, int32 vector * float64 0-d
// is float64.
inline ScalarType result_type(const Tensor& a, const Tensor& b) {
    const bool a0 = a.dim() == 0, b0 = b.dim() == 0;
    if (a0 == b0) return promote_types(a.scalar_type(), b.scalar_type());
    const ScalarType dimmed = (a0 ? b : a).scalar_type();
    const ScalarType zero_d = (a0 ? a : b).scalar_type();
    if (ctgrad::is_floating_point(dimmed)) return dimmed;
    if (dimmed == kBool || ctgrad::is_floating_point(zero_d)) return promote_types(dimmed, zero_d);
    return dimmed;
}

inline Tensor as_dtype(const Tensor& t, ScalarType dtype) {
    return t.scalar_type() == dtype ? t : contiguous_copy(t, dtype);
}

// The gradient g * partial for an input of shape `target`, from the saved tensors (undefined
// when the formula does not need them). See the top of this file for the two paths.
template <class P>
Tensor evaluate_gradient(const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& o, IntArrayRef target);

// Evaluates a static expression with tensor ops (differentiable): the interpreted path.
struct tensor_env {
    Tensor g, a, b, o;
};
struct interpreted {
    Tensor t;  // undefined: the value is the number s
    double s = 0;
};

template <class Op> Tensor unary_op(const Tensor& a, const char* name = backward_name<Op>);
template <class Op> Tensor binary_op(const Tensor& a, const Tensor& b, const char* name = backward_name<Op>);

// The first letter of a variable's name, read off its type (clang 14 does not take a read of
// the variable's static `spelling` array as a constant expression inside a template).
template <class V> inline constexpr char first_letter_v = '\0';
template <char C, char... Rest> inline constexpr char first_letter_v<expr::variable<C, Rest...>> = C;

template <class E>
interpreted interpret(const E& e, const tensor_env& env) {
    if constexpr (expr::is_var_v<E>) {
        constexpr char c = first_letter_v<E>;
        if constexpr (c == 'g') return {env.g};
        else if constexpr (c == 'a') return {env.a};
        else if constexpr (c == 'b') return {env.b};
        else return {env.o};
    } else if constexpr (expr::is_constant_v<E>) {
        return {Tensor(), E::template as<double>()};
    } else if constexpr (expr::is_scalar_v<E>) {
        return {Tensor(), static_cast<double>(e.value)};
    } else if constexpr (expr::is_unary_v<E>) {
        using Op = typename E::op;
        interpreted x = interpret(e.a, env);
        if (!x.t.defined()) return {Tensor(), Op::apply(x.s)};
        return {unary_op<Op>(x.t)};
    } else if constexpr (expr::is_binary_v<E>) {
        using Op = typename E::op;
        interpreted x = interpret(e.a, env), y = interpret(e.b, env);
        if (!x.t.defined() && !y.t.defined()) return {Tensor(), Op::apply(x.s, y.s)};
        const Tensor& like = x.t.defined() ? x.t : y.t;
        Tensor tx = x.t.defined() ? x.t : wrapped_scalar(x.s, like.scalar_type());
        Tensor ty = y.t.defined() ? y.t : wrapped_scalar(y.s, like.scalar_type());
        return {binary_op<Op>(tx, ty)};
    } else {
        static_assert(expr::detail::always_false<E>, "internal: a reduction inside an element-wise gradient");
    }
}

template <class P>
Tensor evaluate_gradient(const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& o, IntArrayRef target) {
    if constexpr (std::is_same_v<P, G>) {
        return g.sizes() == target ? g : sum_to(g, target);
    } else if constexpr (expr::is_zero_v<P>) {
        return zeros(target, g.options());
    } else {
        const std::int64_t n = g.numel();
        std::int64_t target_n = 1;
        for (auto s : target) target_n *= s;
        const bool same_dtype = (!a.defined() || a.scalar_type() == g.scalar_type()) &&
                                (!b.defined() || b.scalar_type() == g.scalar_type()) &&
                                (!o.defined() || o.scalar_type() == g.scalar_type());
        if (!GradMode::is_enabled() && g.is_floating_point() && same_dtype && (target_n == n || target_n == 1)) {
            device_operands bound;
            if (try_bind_device(g.device(), n, g, uses_v<P, A> ? a : Tensor(), uses_v<P, B> ? b : Tensor(),
                                uses_v<P, O> ? o : Tensor(), bound)) {
                Tensor out = make_empty(target, g.scalar_type(), g.device());
                if (target_n == n && n != 1) device_assign<P>("backward", out, bound);
                else device_sum<P>("backward", out, n, bound);
                return out;
            }
        }
        interpreted r = interpret(P{}, tensor_env{g, a, b, o});
        Tensor t = r.t.defined() ? r.t : wrapped_scalar(r.s, g.scalar_type());
        return t.sizes() == target ? t : sum_to(t.expand(broadcast_shapes(t.sizes(), target, "backward")), target);
    }
}

template <class Op>
struct UnaryBackward final : autograd::Node {
    const char* name_;
    std::vector<std::int64_t> input_sizes;
    autograd::SavedVariable a, o;
    explicit UnaryBackward(const char* name) : name_(name) {}
    std::string name() const override { return name_; }
    void release_variables() override {
        a.reset_data();
        o.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        using P = unary_gradient_t<Op>;
        const Tensor av = a.unpack(), ov = o.unpack(shared_from_this());
        return {evaluate_gradient<P>(grads[0], av, Tensor(), ov, input_sizes)};
    }
};

template <class Op>
struct BinaryBackward final : autograd::Node {
    const char* name_;
    std::vector<std::int64_t> a_sizes, b_sizes;
    autograd::SavedVariable a, b, o;
    explicit BinaryBackward(const char* name) : name_(name) {}
    std::string name() const override { return name_; }
    void release_variables() override {
        a.reset_data();
        b.reset_data();
        o.reset_data();
    }
    variable_list apply(variable_list&& grads) override {
        const Tensor& g = grads[0];
        const Tensor av = a.unpack(), bv = b.unpack(), ov = o.unpack(shared_from_this());
        Tensor ga, gb;
        if (should_compute_output(0)) ga = evaluate_gradient<lhs_gradient_t<Op>>(g, av, bv, ov, a_sizes);
        if (should_compute_output(1)) gb = evaluate_gradient<rhs_gradient_t<Op>>(g, av, bv, ov, b_sizes);
        return {ga, gb};
    }
};

template <class Op>
Tensor unary_op(const Tensor& a0, const char* name) {
    if (!a0.defined()) check_defined(a0, op_name(name).c_str());
    if constexpr (integer_op_v<Op>) {
        // The narrower integers compute in int64 and wrap back to their width (as a cast does),
        // which is their own arithmetic: the kernels hold one integer loop, int64's.
        if (is_integral(a0.scalar_type(), false) && a0.scalar_type() != kLong)
            return contiguous_copy(unary_op<Op>(contiguous_copy(a0, kLong), name), a0.scalar_type());
        if (a0.scalar_type() == kLong) {
            Tensor out = make_empty(a0.sizes(), kLong, a0.device());
            device_assign<expr::unary<Op, A>>(name, out, Tensor(), fusable(a0, a0.sizes(), out.numel()), Tensor(),
                                              Tensor());
            return out;
        }
    }
    const Tensor a = !a0.is_floating_point() ? contiguous_copy(a0, get_default_dtype_as_scalartype())
                     : a0.is_contiguous()    ? a0
                                             : contiguous_copy(a0, a0.scalar_type());
    Tensor out = make_empty(a.sizes(), a.scalar_type(), a0.device());
    device_assign<expr::unary<Op, A>>(name, out, Tensor(), a, Tensor(), Tensor());
    if (autograd::compute_requires_grad({&a0})) {
        auto node = autograd::record<UnaryBackward<Op>>(out, {&a0}, name);
        node->input_sizes = a0.sizes().vec();
        using P = unary_gradient_t<Op>;
        if constexpr (uses_v<P, A>) node->a = autograd::SavedVariable(a0, false);
        if constexpr (uses_v<P, O>) node->o = autograd::SavedVariable(out, true);
    }
    return out;
}

// Two bool operands give a bool, as in PyTorch: `+` and maximum are a logical or, `*` and
// minimum a logical and (computed in int64, where they are exact, and narrowed back: any
// non-zero count is true); `-` is refused, since no bool is the difference of two.
template <class Op>
Tensor bool_op(const Tensor& a, const Tensor& b, const char* name) {
    if constexpr (std::is_same_v<Op, expr::sub_op>)
        throw Error(op_name(name) + ": Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                    "`^` or `logical_xor()` operator instead.");
    else
        return contiguous_copy(binary_op<Op>(as_dtype(a, kLong), as_dtype(b, kLong), name), kBool);
}

template <class Op>
Tensor binary_op(const Tensor& a0, const Tensor& b0, const char* name) {
    if (!a0.defined() || !b0.defined()) {
        check_defined(a0, op_name(name).c_str());
        check_defined(b0, op_name(name).c_str(), "other");
    }
    // The op's name is only spelled out when the devices disagree (a string per op costs more
    // than the op on tiny tensors).
    const Device device = a0.device() == b0.device() ? a0.device() : common_device(op_name(name), {&a0, &b0});
    std::vector<std::int64_t> sizes;
    try {  // the op's name is only spelled out when there is an error to report
        sizes = broadcast_shapes(a0.sizes(), b0.sizes(), "");
    } catch (const Error& e) {
        throw Error(op_name(name) + e.what());
    }
    ScalarType dtype = result_type(a0, b0);
    if constexpr (integer_op_v<Op>) {
        if (dtype == kBool) return bool_op<Op>(a0, b0, name);
        // As in unary_op: int64 arithmetic wrapped back to the narrower integer's width.
        if (is_integral(dtype, false) && dtype != kLong)
            return contiguous_copy(binary_op<Op>(as_dtype(a0, kLong), as_dtype(b0, kLong), name), dtype);
    }
    if (!integer_op_v<Op>) dtype = ctgrad::is_floating_point(dtype) ? dtype : get_default_dtype_as_scalartype();
    std::int64_t n = 1;
    for (auto s : sizes) n *= s;
    // The operands in the op's dtype: themselves, or converted copies.
    const Tensor a_converted = a0.scalar_type() == dtype ? Tensor() : contiguous_copy(a0, dtype);
    const Tensor b_converted = b0.scalar_type() == dtype ? Tensor() : contiguous_copy(b0, dtype);
    const Tensor& a = a_converted.defined() ? a_converted : a0;
    const Tensor& b = b_converted.defined() ? b_converted : b0;
    Tensor out = make_empty(sizes, dtype, device);  // float, double or (the integer ops) int64
    if (n != 0) {
        device_operands bound;
        Tensor copied_a, copied_b;
        bound.items[1] = bind_or_copy(a, device, sizes, n, copied_a);
        bound.items[2] = bind_or_copy(b, device, sizes, n, copied_b);
        device_assign<expr::binary<Op, A, B>>(name, out, bound);
    }
    if (autograd::compute_requires_grad({&a0, &b0})) {
        auto node = autograd::record<BinaryBackward<Op>>(out, {&a0, &b0}, name);
        node->a_sizes = a0.sizes().vec();
        node->b_sizes = b0.sizes().vec();
        using PL = lhs_gradient_t<Op>;
        using PR = rhs_gradient_t<Op>;
        const bool need_a = b0.requires_grad() ? uses_v<PR, A> : false, need_b = a0.requires_grad() ? uses_v<PL, B> : false;
        if (need_a || (a0.requires_grad() && uses_v<PL, A>)) node->a = autograd::SavedVariable(a, false);
        if (need_b || (b0.requires_grad() && uses_v<PR, B>)) node->b = autograd::SavedVariable(b, false);
        if ((a0.requires_grad() && uses_v<PL, O>) || (b0.requires_grad() && uses_v<PR, O>))
            node->o = autograd::SavedVariable(out, true);
    }
    return out;
}

}  // namespace detail

CTGRAD_API Tensor neg(const Tensor& a) {
    if (a.defined() && a.scalar_type() == kBool)
        throw Error("neg: Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
                    "mask, use the `~` or `logical_not()` operator instead.");
    return detail::unary_op<expr::neg_op>(a);
}
CTGRAD_API Tensor exp(const Tensor& a) { return detail::unary_op<expr::exp_op>(a); }
CTGRAD_API Tensor log(const Tensor& a) { return detail::unary_op<expr::log_op>(a); }
CTGRAD_API Tensor sin(const Tensor& a) { return detail::unary_op<expr::sin_op>(a); }
CTGRAD_API Tensor cos(const Tensor& a) { return detail::unary_op<expr::cos_op>(a); }
CTGRAD_API Tensor tan(const Tensor& a) { return detail::unary_op<expr::tan_op>(a); }
CTGRAD_API Tensor tanh(const Tensor& a) { return detail::unary_op<expr::tanh_op>(a); }
CTGRAD_API Tensor sigmoid(const Tensor& a) { return detail::unary_op<expr::sigmoid_op>(a); }
CTGRAD_API Tensor relu(const Tensor& a) { return detail::unary_op<expr::relu_op>(a); }
CTGRAD_API Tensor sqrt(const Tensor& a) { return detail::unary_op<expr::sqrt_op>(a); }
CTGRAD_API Tensor abs(const Tensor& a) { return detail::unary_op<expr::abs_op>(a); }
CTGRAD_API Tensor square(const Tensor& a) { return detail::unary_op<expr::ipow_op<2>>(a); }

CTGRAD_API Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
    if (alpha.to_double() == 1) return detail::binary_op<expr::add_op>(a, b);
    return detail::binary_op<expr::add_op>(a, mul(b, detail::scalar_operand(alpha, b)));
}
namespace detail {
// PyTorch refuses `-` with any bool operand, a bool number included (no bool is the difference
// of two, and `1 - mask` is usually meant as `~mask`).
inline void check_sub_operands(ScalarType a, ScalarType b) {
    if (a == kBool && b == kBool)
        throw Error("sub: Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                    "`logical_xor()` operator instead.");
    if (a == kBool || b == kBool)
        throw Error("sub: Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                    "invert a mask, use the `~` or `logical_not()` operator instead.");
}
// An undefined operand passes the check: the op itself reports it, naming the argument.
inline ScalarType dtype_if_defined(const Tensor& t) { return t.defined() ? t.scalar_type() : kFloat; }
}  // namespace detail

CTGRAD_API Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
    detail::check_sub_operands(detail::dtype_if_defined(a), detail::dtype_if_defined(b));
    if (alpha.to_double() == 1) return detail::binary_op<expr::sub_op>(a, b);
    return detail::binary_op<expr::sub_op>(a, mul(b, detail::scalar_operand(alpha, b)));
}
CTGRAD_API Tensor mul(const Tensor& a, const Tensor& b) { return detail::binary_op<expr::mul_op>(a, b); }
CTGRAD_API Tensor div(const Tensor& a, const Tensor& b) { return detail::binary_op<expr::div_op>(a, b); }
CTGRAD_API Tensor maximum(const Tensor& a, const Tensor& b) { return detail::binary_op<expr::max_op>(a, b); }
CTGRAD_API Tensor minimum(const Tensor& a, const Tensor& b) { return detail::binary_op<expr::min_op>(a, b); }

CTGRAD_API Tensor pow(const Tensor& a, const Tensor& exponent) { return detail::binary_op<expr::pow_op>(a, exponent); }
// Exponents 2 and 3 multiply (as ATen's pow does). So does 4, which ATen sends through its
// vectorised pow (within an ulp of exact): squaring twice is within an ulp too, and a scalar
// pow() per element made the seed's DynamicNet, which raises x to 4 up to five times a step,
// spend most of its step there (9.4 us against 0.2 us per 2000 floats). Any other exponent goes
// through pow().
CTGRAD_API Tensor pow(const Tensor& a, const Scalar& exponent) {
    const double e = exponent.to_double();
    if (a.is_floating_point() && e == 2) return detail::unary_op<expr::ipow_op<2>>(a, "PowBackward0");
    if (a.is_floating_point() && e == 3) return detail::unary_op<expr::ipow_op<3>>(a, "PowBackward0");
    if (a.is_floating_point() && e == 4) return detail::unary_op<expr::ipow_op<4>>(a, "PowBackward0");
    Tensor base = a.is_floating_point() ? a : detail::contiguous_copy(a, get_default_dtype_as_scalartype());
    return detail::binary_op<expr::pow_op>(base, detail::scalar_operand(exponent, base), "PowBackward0");
}
CTGRAD_API Tensor pow(const Scalar& base, const Tensor& exponent) {
    return detail::binary_op<expr::pow_op>(detail::scalar_operand(base, exponent), exponent, "PowBackward1");
}

CTGRAD_API Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
CTGRAD_API Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
CTGRAD_API Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
CTGRAD_API Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
CTGRAD_API Tensor operator-(const Tensor& a) { return neg(a); }

// grad_fn names as libtorch's operators give them: a Scalar operand selects the `.Scalar`
// overload (AddBackward1, MulBackward1, ...); `s - t` is empty_like(t).fill_(s).sub_(t) there
// (SubBackward0) and `s / t` is .div_(t) (DivBackward0).
CTGRAD_API Tensor operator+(const Tensor& a, const Scalar& s) { return detail::binary_op<expr::add_op>(a, detail::scalar_operand(s, a), "AddBackward1"); }
CTGRAD_API Tensor operator+(const Scalar& s, const Tensor& a) { return detail::binary_op<expr::add_op>(detail::scalar_operand(s, a), a, "AddBackward1"); }
CTGRAD_API Tensor operator-(const Tensor& a, const Scalar& s) {
    detail::check_sub_operands(detail::dtype_if_defined(a), s.kind());
    return detail::binary_op<expr::sub_op>(a, detail::scalar_operand(s, a), "SubBackward1");
}
CTGRAD_API Tensor operator-(const Scalar& s, const Tensor& a) {
    detail::check_sub_operands(s.kind(), detail::dtype_if_defined(a));
    return detail::binary_op<expr::sub_op>(detail::scalar_operand(s, a), a, "SubBackward0");
}
CTGRAD_API Tensor operator*(const Tensor& a, const Scalar& s) { return detail::binary_op<expr::mul_op>(a, detail::scalar_operand(s, a), "MulBackward1"); }
CTGRAD_API Tensor operator*(const Scalar& s, const Tensor& a) { return detail::binary_op<expr::mul_op>(detail::scalar_operand(s, a), a, "MulBackward1"); }
CTGRAD_API Tensor operator/(const Tensor& a, const Scalar& s) { return detail::binary_op<expr::div_op>(a, detail::scalar_operand(s, a), "DivBackward1"); }
CTGRAD_API Tensor operator/(const Scalar& s, const Tensor& a) { return detail::binary_op<expr::div_op>(detail::scalar_operand(s, a), a); }

namespace detail {
// other * alpha, an integer when both are (an int64 tensor plus 2 stays int64).
inline Scalar scaled(const Scalar& other, const Scalar& alpha) {
    if (other.is_floating_point() || alpha.is_floating_point()) return Scalar(other.to_double() * alpha.to_double());
    return Scalar(other.to_long() * alpha.to_long());
}
}  // namespace detail

CTGRAD_API Tensor Tensor::add(const Tensor& o, const Scalar& alpha) const { return ctgrad::add(*this, o, alpha); }
CTGRAD_API Tensor Tensor::add(const Scalar& o, const Scalar& alpha) const { return *this + detail::scaled(o, alpha); }
CTGRAD_API Tensor Tensor::sub(const Tensor& o, const Scalar& alpha) const { return ctgrad::sub(*this, o, alpha); }
CTGRAD_API Tensor Tensor::sub(const Scalar& o, const Scalar& alpha) const {
    detail::check_sub_operands(detail::dtype_if_defined(*this), o.kind());
    return *this - detail::scaled(o, alpha);
}
CTGRAD_API Tensor Tensor::mul(const Tensor& o) const { return ctgrad::mul(*this, o); }
CTGRAD_API Tensor Tensor::mul(const Scalar& o) const { return *this * o; }
CTGRAD_API Tensor Tensor::div(const Tensor& o) const { return ctgrad::div(*this, o); }
CTGRAD_API Tensor Tensor::div(const Scalar& o) const { return *this / o; }
CTGRAD_API Tensor Tensor::pow(const Tensor& e) const { return ctgrad::pow(*this, e); }
CTGRAD_API Tensor Tensor::pow(const Scalar& e) const { return ctgrad::pow(*this, e); }
CTGRAD_API Tensor Tensor::neg() const { return ctgrad::neg(*this); }
CTGRAD_API Tensor Tensor::exp() const { return ctgrad::exp(*this); }
CTGRAD_API Tensor Tensor::log() const { return ctgrad::log(*this); }
CTGRAD_API Tensor Tensor::sin() const { return ctgrad::sin(*this); }
CTGRAD_API Tensor Tensor::cos() const { return ctgrad::cos(*this); }
CTGRAD_API Tensor Tensor::tan() const { return ctgrad::tan(*this); }
CTGRAD_API Tensor Tensor::tanh() const { return ctgrad::tanh(*this); }
CTGRAD_API Tensor Tensor::sigmoid() const { return ctgrad::sigmoid(*this); }
CTGRAD_API Tensor Tensor::relu() const { return ctgrad::relu(*this); }
CTGRAD_API Tensor Tensor::sqrt() const { return ctgrad::sqrt(*this); }
CTGRAD_API Tensor Tensor::abs() const { return ctgrad::abs(*this); }
CTGRAD_API Tensor Tensor::square() const { return ctgrad::square(*this); }
CTGRAD_API Tensor Tensor::maximum(const Tensor& o) const { return ctgrad::maximum(*this, o); }
CTGRAD_API Tensor Tensor::minimum(const Tensor& o) const { return ctgrad::minimum(*this, o); }

}  // namespace ctgrad

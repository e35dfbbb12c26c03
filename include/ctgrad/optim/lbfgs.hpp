#pragma once
// L-BFGS with an optional strong-Wolfe line search: PyTorch 1.13's torch.optim.LBFGS and
// libtorch's torch::optim::LBFGS (one param group; step needs a closure that evaluates the loss
// and its gradients and returns the loss).
//
// One step() runs up to max_iter iterations of: the search direction d from the gradient and
// the last history_size curvature pairs (two-loop recursion, scaled by H_diag = y's / y'y);
// a step length t (min(1, 1/|g|_1) * lr on the very first iteration, lr after); then either
// p += t d and a new evaluation (no line search), or a strong-Wolfe search along d that picks t.
// It stops early when the gradient's largest element is <= tolerance_grad, the directional
// derivative is > -tolerance_change, the step or the loss change is below tolerance_change,
// or max_eval evaluations were spent. The state (direction, history, counters) carries over
// to the next step().
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "detail/arg.hpp"
#include "../core/config.hpp"
#include "optimizer.hpp"

namespace ctgrad::optim {

struct LBFGSOptions : public OptimizerCloneableOptions<LBFGSOptions> {
    LBFGSOptions(double lr = 1) : lr_(lr) {}  // NOLINT: implicit, as libtorch
    CTGRAD_OPTIM_ARG(double, lr);
    CTGRAD_OPTIM_ARG(std::int64_t, max_iter) = 20;
    // Unset: the constructor makes it max_iter * 5 / 4.
    CTGRAD_OPTIM_ARG(std::optional<std::int64_t>, max_eval) = std::nullopt;
    CTGRAD_OPTIM_ARG(double, tolerance_grad) = 1e-7;
    CTGRAD_OPTIM_ARG(double, tolerance_change) = 1e-9;
    CTGRAD_OPTIM_ARG(std::int64_t, history_size) = 100;
    // Unset, or "strong_wolfe".
    CTGRAD_OPTIM_ARG(std::optional<std::string>, line_search_fn) = std::nullopt;

public:
    double get_lr() const override { return lr(); }
    void set_lr(double lr) override { this->lr(lr); }
    friend bool operator==(const LBFGSOptions& a, const LBFGSOptions& b) {
        return a.lr() == b.lr() && a.max_iter() == b.max_iter() && a.max_eval() == b.max_eval() &&
               a.tolerance_grad() == b.tolerance_grad() && a.tolerance_change() == b.tolerance_change() &&
               a.history_size() == b.history_size() && a.line_search_fn() == b.line_search_fn();
    }
};

// Kept under the first parameter's key, as libtorch keeps it.
struct LBFGSParamState : public OptimizerCloneableParamState<LBFGSParamState> {
    CTGRAD_OPTIM_ARG(std::int64_t, func_evals) = 0;
    CTGRAD_OPTIM_ARG(std::int64_t, n_iter) = 0;
    CTGRAD_OPTIM_ARG(double, t) = 0;
    CTGRAD_OPTIM_ARG(double, prev_loss) = 0;
    CTGRAD_OPTIM_ARG(Tensor, d) = {};
    CTGRAD_OPTIM_ARG(Tensor, H_diag) = {};
    CTGRAD_OPTIM_ARG(Tensor, prev_flat_grad) = {};
    CTGRAD_OPTIM_ARG(std::deque<Tensor>, old_dirs);
    CTGRAD_OPTIM_ARG(std::deque<Tensor>, old_stps);
    CTGRAD_OPTIM_ARG(std::deque<Tensor>, ro);
    CTGRAD_OPTIM_ARG(std::optional<std::vector<Tensor>>, al) = std::nullopt;
};

class LBFGS : public Optimizer {
public:
    explicit LBFGS(std::vector<Tensor> params, LBFGSOptions defaults = {});

    // Needs a closure: it zeroes the gradients, computes the loss, calls backward and returns the
    // loss. Returns the loss of the first evaluation.
    Tensor step(LossClosure closure) override;

protected:
    std::string name() const override;
    void check_options(const OptimizerOptions& options) const override;

private:
    Tensor gather_flat_grad() const;
    std::int64_t numel() const;
    // p += step_size * update (update is flat, in the parameters' order).
    void add_grad(double step_size, const Tensor& update);
    std::vector<Tensor> clone_params() const;
    void set_params(const std::vector<Tensor>& values);
    // The loss and flat gradient at x + t d; the parameters are x again after.
    std::tuple<double, Tensor> directional_evaluate(const LossClosure& closure, const std::vector<Tensor>& x,
                                                     double t, const Tensor& d);
    // The strong-Wolfe search along d from x (loss f, flat gradient g, directional derivative
    // gtd) starting at t: the loss, flat gradient and t it accepts, and its evaluations.
    std::tuple<double, Tensor, double, std::int64_t> strong_wolfe(const LossClosure& closure,
                                                                  const std::vector<Tensor>& x, double t,
                                                                  const Tensor& d, double f, Tensor g, double gtd);
};

}  // namespace ctgrad::optim

// Compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <algorithm>
#include <cmath>

namespace ctgrad::optim {

CTGRAD_API LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions defaults)
    : Optimizer(std::make_unique<LBFGSOptions>(defaults)) {
    if (!defaults.max_eval()) {
        const std::int64_t max_eval = defaults.max_iter() * 5 / 4;
        static_cast<LBFGSOptions&>(this->defaults()).max_eval(max_eval);
    }
    add_param_groups({OptimizerParamGroup(std::move(params))});
}

CTGRAD_API std::string LBFGS::name() const { return "LBFGS"; }

CTGRAD_API void LBFGS::check_options(const OptimizerOptions& options) const {
    const auto& o = static_cast<const LBFGSOptions&>(options);
    if (!param_groups().empty())
        throw Error("LBFGS: doesn't support per-parameter options (parameter groups)");
    if (!(o.lr() >= 0)) throw Error("LBFGS: Invalid learning rate: " + number(o.lr()));
    if (o.history_size() < 1)
        throw Error("LBFGS: Invalid history_size value: " + std::to_string(o.history_size()) + " (expected >= 1)");
    if (o.line_search_fn() && *o.line_search_fn() != "strong_wolfe")
        throw Error("LBFGS: only 'strong_wolfe' is supported as line_search_fn, got '" + *o.line_search_fn() + "'");
}

CTGRAD_API std::int64_t LBFGS::numel() const {
    std::int64_t n = 0;
    for (const auto& p : param_groups().at(0).params()) n += p.numel();
    return n;
}

CTGRAD_API Tensor LBFGS::gather_flat_grad() const {
    std::vector<Tensor> views;
    for (const auto& p : param_groups().at(0).params()) {
        const Tensor g = p.grad();
        views.push_back(g.defined() ? g.reshape({-1}) : zeros({p.numel()}, TensorOptions().dtype(p.scalar_type()).device(p.device())));
    }
    return cat(views, 0);
}

CTGRAD_API void LBFGS::add_grad(double step_size, const Tensor& update) {
    std::int64_t offset = 0;
    for (auto& p : param_groups()[0].params()) {
        const std::int64_t n = p.numel();
        p.add_(update.narrow(0, offset, n).view_as(p), step_size);
        offset += n;
    }
}

CTGRAD_API std::vector<Tensor> LBFGS::clone_params() const {
    std::vector<Tensor> out;
    for (const auto& p : param_groups().at(0).params()) out.push_back(p.clone());
    return out;
}

CTGRAD_API void LBFGS::set_params(const std::vector<Tensor>& values) {
    auto& params = param_groups()[0].params();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(values[i]);
}

CTGRAD_API std::tuple<double, Tensor> LBFGS::directional_evaluate(const LossClosure& closure,
                                                                  const std::vector<Tensor>& x, double t,
                                                                  const Tensor& d) {
    add_grad(t, d);
    const double loss = evaluate(closure).item<double>();
    Tensor flat_grad = gather_flat_grad();
    set_params(x);
    return {loss, flat_grad};
}

namespace detail {

// The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, kept within
// bounds (by default [min(x1, x2), max(x1, x2)]); the middle of the bounds when the cubic has
// no minimizer.
inline double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                                std::optional<std::pair<double, double>> bounds = std::nullopt) {
    const auto [lo, hi] = bounds ? *bounds : (x1 <= x2 ? std::make_pair(x1, x2) : std::make_pair(x2, x1));
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        const double d2 = std::sqrt(d2_square);
        const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return std::min(std::max(min_pos, lo), hi);
    }
    return (lo + hi) / 2;
}

}  // namespace detail

CTGRAD_API std::tuple<double, Tensor, double, std::int64_t> LBFGS::strong_wolfe(
    const LossClosure& closure, const std::vector<Tensor>& x, double t, const Tensor& d, double f, Tensor g,
    double gtd) {
    // PyTorch's constants: sufficient decrease c1, curvature c2, and the search's own limits.
    constexpr double c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9;
    constexpr int max_ls = 25;
    const double d_norm = d.abs().max().item<double>();
    g = g.clone();
    auto [f_new, g_new] = directional_evaluate(closure, x, t, d);
    std::int64_t evals = 1;
    double gtd_new = dot(g_new, d).item<double>();

    // Bracketing: grow t until an interval holds a point that satisfies the conditions.
    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    Tensor g_prev = g;
    bool done = false;
    int ls_iter = 0;
    std::vector<double> bracket, bracket_f, bracket_gtd;
    std::vector<Tensor> bracket_g;
    while (ls_iter < max_ls) {
        if (f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
            bracket = {t_prev, t};
            bracket_f = {f_prev, f_new};
            bracket_g = {g_prev, g_new.clone()};
            bracket_gtd = {gtd_prev, gtd_new};
            break;
        }
        if (std::abs(gtd_new) <= -c2 * gtd) {
            bracket = {t};
            bracket_f = {f_new};
            bracket_g = {g_new};
            done = true;
            break;
        }
        if (gtd_new >= 0) {
            bracket = {t_prev, t};
            bracket_f = {f_prev, f_new};
            bracket_g = {g_prev, g_new.clone()};
            bracket_gtd = {gtd_prev, gtd_new};
            break;
        }
        const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10;
        const double previous = t;
        t = detail::cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, std::make_pair(min_step, max_step));
        t_prev = previous;
        f_prev = f_new;
        g_prev = g_new.clone();
        gtd_prev = gtd_new;
        std::tie(f_new, g_new) = directional_evaluate(closure, x, t, d);
        ++evals;
        gtd_new = dot(g_new, d).item<double>();
        ++ls_iter;
    }
    if (ls_iter == max_ls) {
        bracket = {0, t};
        bracket_f = {f, f_new};
        bracket_g = {g, g_new};
    }

    // Zoom: shrink the bracket until a point satisfies the conditions.
    bool insufficient_progress = false;
    std::size_t low = 0, high = 1;
    if (!(bracket_f.front() <= bracket_f.back())) std::swap(low, high);
    while (!done && ls_iter < max_ls) {
        if (std::abs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
        t = detail::cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]);
        // A point too near an end of the bracket is moved in, unless the last one was too.
        const double b_max = std::max(bracket[0], bracket[1]), b_min = std::min(bracket[0], bracket[1]);
        const double eps = 0.1 * (b_max - b_min);
        if (std::min(b_max - t, t - b_min) < eps) {
            if (insufficient_progress || t >= b_max || t <= b_min) {
                t = std::abs(t - b_max) < std::abs(t - b_min) ? b_max - eps : b_min + eps;
                insufficient_progress = false;
            } else {
                insufficient_progress = true;
            }
        } else {
            insufficient_progress = false;
        }
        std::tie(f_new, g_new) = directional_evaluate(closure, x, t, d);
        ++evals;
        gtd_new = dot(g_new, d).item<double>();
        ++ls_iter;
        if (f_new > f + c1 * t * gtd || f_new >= bracket_f[low]) {
            bracket[high] = t;
            bracket_f[high] = f_new;
            bracket_g[high] = g_new.clone();
            bracket_gtd[high] = gtd_new;
            low = bracket_f[0] <= bracket_f[1] ? 0 : 1;
            high = 1 - low;
        } else {
            if (std::abs(gtd_new) <= -c2 * gtd) {
                done = true;
            } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
                bracket[high] = bracket[low];
                bracket_f[high] = bracket_f[low];
                bracket_g[high] = bracket_g[low];
                bracket_gtd[high] = bracket_gtd[low];
            }
            bracket[low] = t;
            bracket_f[low] = f_new;
            bracket_g[low] = g_new.clone();
            bracket_gtd[low] = gtd_new;
        }
    }
    return {bracket_f[low], bracket_g[low], bracket[low], evals};
}

CTGRAD_API Tensor LBFGS::step(LossClosure closure) {
    if (!closure) throw Error("LBFGS: step() requires a closure function (it evaluates the loss several times)");
    NoGradGuard no_grad;
    auto& group = param_groups().at(0);
    const auto& o = static_cast<const LBFGSOptions&>(group.options());
    const double lr = o.lr(), tolerance_grad = o.tolerance_grad(), tolerance_change = o.tolerance_change();
    const std::int64_t max_iter = o.max_iter(), max_eval = o.max_eval().value_or(o.max_iter() * 5 / 4);
    const auto history_size = static_cast<std::size_t>(o.history_size());
    if (group.params().empty()) throw Error("LBFGS: there are no parameters to optimize");

    auto& slot = state()[group.params()[0].unsafeGetTensorImpl()];
    if (!slot) slot = std::make_unique<LBFGSParamState>();
    auto& s = static_cast<LBFGSParamState&>(*slot);

    const Tensor orig_loss = evaluate(closure);
    double loss = orig_loss.item<double>();
    std::int64_t current_evals = 1;
    s.func_evals(s.func_evals() + 1);
    Tensor flat_grad = gather_flat_grad();
    bool opt_cond = flat_grad.abs().max().item<double>() <= tolerance_grad;
    if (opt_cond) return orig_loss;

    Tensor& d = s.d();
    double& t = s.t();
    auto& old_dirs = s.old_dirs();
    auto& old_stps = s.old_stps();
    auto& ro = s.ro();
    Tensor& H_diag = s.H_diag();
    Tensor& prev_flat_grad = s.prev_flat_grad();
    double& prev_loss = s.prev_loss();

    std::int64_t n_iter = 0;
    while (n_iter < max_iter) {
        ++n_iter;
        s.n_iter(s.n_iter() + 1);
        if (s.n_iter() == 1) {
            d = flat_grad.neg();
            H_diag = scalar_tensor(1.0, TensorOptions().dtype(flat_grad.scalar_type()).device(flat_grad.device()));
            old_dirs.clear();
            old_stps.clear();
            ro.clear();
        } else {
            // The curvature pair of the last step, kept when it is positive enough.
            const Tensor y = flat_grad.sub(prev_flat_grad);
            const Tensor step = d.mul(t);
            const Tensor ys = dot(y, step);
            if (ys.item<double>() > 1e-10) {
                // >=: history_size may have been lowered since the last step
                while (!old_dirs.empty() && old_dirs.size() >= history_size) {
                    old_dirs.pop_front();
                    old_stps.pop_front();
                    ro.pop_front();
                }
                old_dirs.push_back(y);
                old_stps.push_back(step);
                ro.push_back(1. / ys);
                H_diag = ys / dot(y, y);
            }
            const std::size_t num_old = old_dirs.size();
            if (!s.al()) s.al(std::vector<Tensor>(history_size));
            auto& al = *s.al();
            if (al.size() < num_old) al.resize(num_old);  // history_size may have been raised
            // The two-loop recursion: d = -H g.
            Tensor q = flat_grad.neg();
            for (std::size_t i = num_old; i-- > 0;) {
                al[i] = dot(old_stps[i], q) * ro[i];
                q.add_(old_dirs[i], -al[i].item<double>());
            }
            Tensor r = q.mul(H_diag);
            d = r;
            for (std::size_t i = 0; i < num_old; ++i) {
                const Tensor be_i = dot(old_dirs[i], r) * ro[i];
                r.add_(old_stps[i], (al[i] - be_i).item<double>());
            }
        }
        if (!prev_flat_grad.defined()) prev_flat_grad = flat_grad.clone();
        else prev_flat_grad.copy_(flat_grad);
        prev_loss = loss;

        t = s.n_iter() == 1 ? std::min(1., 1. / flat_grad.abs().sum().item<double>()) * lr : lr;
        const double gtd = dot(flat_grad, d).item<double>();
        if (gtd > -tolerance_change) break;  // not a descent direction

        std::int64_t ls_func_evals = 0;
        if (o.line_search_fn()) {
            const std::vector<Tensor> x_init = clone_params();
            std::tie(loss, flat_grad, t, ls_func_evals) = strong_wolfe(closure, x_init, t, d, loss, flat_grad, gtd);
            add_grad(t, d);
            opt_cond = flat_grad.abs().max().item<double>() <= tolerance_grad;
        } else {
            add_grad(t, d);
            if (n_iter != max_iter) {
                loss = evaluate(closure).item<double>();
                flat_grad = gather_flat_grad();
                opt_cond = flat_grad.abs().max().item<double>() <= tolerance_grad;
                ls_func_evals = 1;
            }
        }
        current_evals += ls_func_evals;
        s.func_evals(s.func_evals() + ls_func_evals);

        if (n_iter == max_iter) break;
        if (current_evals >= max_eval) break;
        if (opt_cond) break;
        if (d.mul(t).abs().max().item<double>() <= tolerance_change) break;
        if (std::abs(loss - prev_loss) < tolerance_change) break;
    }
    return orig_loss;
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS

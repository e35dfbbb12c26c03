// Maximum likelihood with the static layer: a normal distribution fitted to a sample by gradient
// descent on its negative log-likelihood, next to the closed-form answer (the sample's mean and
// standard deviation), which is itself one expression with a reduction inside a reduction.
//
// What the plan does here (docs/static-layer.md, "How an expression becomes passes"):
//  - log(sigma) and 1/sigma read no array: they are computed once per step, not per element;
//  - the loss is affine in its one reduction, so the pass that sums it also writes the
//    gradient with respect to the data (into a buffer the program owns), and a step is one
//    pass over the sample;
//  - the standard deviation, sqrt(mean((x - mean(x))^2)), takes two passes.
// The program checks its fit against the closed form and exits non-zero when they differ.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <ctgrad/expr.hpp>

using namespace ctgrad::expr;

int main() {
    constexpr var<"x"> x;
    constexpr var<"mu"> mu;
    constexpr var<"s"> s;  // log(sigma): any real number is a valid sigma = exp(s)

    std::mt19937 rng(7);
    std::normal_distribution<double> normal(2.5, 0.75);
    std::vector<double> sample(100000);
    for (double& v : sample) v = normal(rng);

    const auto sigma = exp(s);
    const auto nll = mean(0.5 * pow<2>((x - mu) / sigma) + log(sigma));
    std::printf("negative log-likelihood: %s\n", to_string(nll).c_str());
    std::printf("%s", to_string(plan(nll)).c_str());

    std::vector<double> dx(sample.size());  // the gradient with respect to the data, reused
    double m = 0.0, log_sigma = 0.0, loss = 0.0;
    const double rate = 0.5;
    for (int step = 0; step < 200; ++step) {
        auto [value, grads] = value_and_grad(nll, wrt(mu, s, into(x, dx)), x = sample, mu = m, s = log_sigma);
        loss = value;
        m -= rate * std::get<0>(grads);
        log_sigma -= rate * std::get<1>(grads);
        if (step % 50 == 0) std::printf("step %3d  loss %.6f  mu %.6f  sigma %.6f\n", step, loss, m, std::exp(log_sigma));
    }

    const auto standard_deviation = sqrt(mean(pow<2>(x - mean(x))));
    std::printf("%s", to_string(plan(standard_deviation)).c_str());
    const double closed_mu = eval(mean(x), x = sample);
    const double closed_sigma = eval(standard_deviation, x = sample);
    std::printf("fit:         mu %.6f  sigma %.6f  (loss %.6f)\n", m, std::exp(log_sigma), loss);
    std::printf("closed form: mu %.6f  sigma %.6f\n", closed_mu, closed_sigma);

    // d loss / d x_i = (x_i - mu) / (n sigma^2): at the optimum they sum to zero.
    double dx_sum = 0.0;
    for (double g : dx) dx_sum += g;
    std::printf("sum of d loss / d x at the fit: %.3g\n", dx_sum);

    const bool ok = std::abs(m - closed_mu) < 1e-6 && std::abs(std::exp(log_sigma) - closed_sigma) < 1e-6 &&
                    std::abs(dx_sum) < 1e-9;
    std::printf("%s\n", ok ? "the fit matches the closed form" : "the fit does NOT match the closed form");
    return ok ? 0 : 1;
}

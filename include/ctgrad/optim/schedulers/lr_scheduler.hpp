#pragma once
// The base of ctgrad's learning-rate schedulers, libtorch 1.13's torch::optim::LRScheduler:
// each step() asks the scheduler for the learning rates of the optimizer's param groups
// (get_lrs) and sets them (OptimizerOptions::set_lr), then counts the step.
//
// libtorch's count starts at 0 on the first step(), where Python's constructor has already
// taken a step: a libtorch scheduler's first step() leaves the learning rates as they are and
// its later ones act one call after Python's (docs/optim.md).
#include <string>
#include <vector>

#include "../../core/config.hpp"
#include "../../core/error.hpp"
#include "../optimizer.hpp"

namespace ctgrad::optim {

class LRScheduler {
public:
    explicit LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {}
    LRScheduler(const LRScheduler&) = delete;
    LRScheduler& operator=(const LRScheduler&) = delete;
    virtual ~LRScheduler() = default;

    // Sets every param group's learning rate to get_lrs()'s, then counts the step. Throws (and
    // changes nothing) when get_lrs gives a rate per group of another count.
    void step();

protected:
    // The learning rates, one per param group, that this step sets.
    virtual std::vector<double> get_lrs() = 0;
    // The param groups' learning rates now.
    std::vector<double> get_current_lrs() const;

    unsigned step_count_ = 0;

private:
    Optimizer& optimizer_;
};

}  // namespace ctgrad::optim

// Compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::optim {

CTGRAD_API void LRScheduler::step() {
    const std::vector<double> lrs = get_lrs();
    auto& groups = optimizer_.param_groups();
    if (lrs.size() != groups.size())
        throw Error("LRScheduler: get_lrs() gave " + std::to_string(lrs.size()) + " learning rates for " +
                    std::to_string(groups.size()) + " param groups");
    for (std::size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
    ++step_count_;
}

CTGRAD_API std::vector<double> LRScheduler::get_current_lrs() const {
    std::vector<double> lrs;
    for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.options().get_lr());
    return lrs;
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS

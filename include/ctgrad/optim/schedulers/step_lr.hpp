#pragma once
// StepLR, libtorch 1.13's torch::optim::StepLR: every step_size-th step() multiplies each
// param group's learning rate by gamma (the step() that counts step_size, 2 step_size, ...
// from 0, as libtorch counts; see lr_scheduler.hpp).
#include <string>
#include <vector>

#include "../../core/config.hpp"
#include "../../core/error.hpp"
#include "lr_scheduler.hpp"

namespace ctgrad::optim {

class StepLR : public LRScheduler {
public:
    // Throws for step_size 0 (libtorch would divide by it).
    StepLR(Optimizer& optimizer, unsigned step_size, double gamma = 0.1);

private:
    std::vector<double> get_lrs() override;

    unsigned step_size_;
    double gamma_;
};

}  // namespace ctgrad::optim

// Compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
namespace ctgrad::optim {

CTGRAD_API StepLR::StepLR(Optimizer& optimizer, unsigned step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    if (step_size == 0) throw Error("StepLR: step_size must be positive, got 0");
}

CTGRAD_API std::vector<double> StepLR::get_lrs() {
    std::vector<double> lrs = get_current_lrs();
    if (step_count_ != 0 && step_count_ % step_size_ == 0)
        for (double& lr : lrs) lr *= gamma_;
    return lrs;
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS

#pragma once
// ReduceLROnPlateauScheduler: multiplies each param group's lr by factor (down to its min_lr)
// when a metric has not improved for more than `patience` steps, as PyTorch 1.13's
// torch.optim.lr_scheduler.ReduceLROnPlateau does. libtorch 1.13 has no such class; this one
// takes the constructor of libtorch's later torch::optim::ReduceLROnPlateauScheduler, but in
// double (factor, min_lr, the metric) so that its learning rates are Python's to the bit.
//
// step(metric): the metric improves on the best seen when it is below best * (1 - threshold)
// (mode min, threshold_mode rel), below best - threshold (min, abs), above best * (1 +
// threshold) (max, rel) or above best + threshold (max, abs). A step without improvement counts
// as bad, except during the `cooldown` steps after a reduction; more than `patience` bad steps
// in a row reduce every group's lr to max(lr * factor, min_lr) where that lowers it by more than
// eps, and start the cooldown.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../../core/config.hpp"
#include "../../core/error.hpp"
#include "../optimizer.hpp"

namespace ctgrad::optim {

class ReduceLROnPlateauScheduler {
public:
    enum SchedulerMode { min, max };
    enum ThresholdMode { rel, abs };

    // min_lr: empty (0 for every group), one value for every group, or one per group. Throws for
    // factor >= 1 or another count of min_lr.
    explicit ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode = min, double factor = 0.1,
                                        int patience = 10, double threshold = 1e-4, ThresholdMode threshold_mode = rel,
                                        int cooldown = 0, const std::vector<double>& min_lr = {}, double eps = 1e-8);
    ReduceLROnPlateauScheduler(const ReduceLROnPlateauScheduler&) = delete;
    ReduceLROnPlateauScheduler& operator=(const ReduceLROnPlateauScheduler&) = delete;
    virtual ~ReduceLROnPlateauScheduler() = default;

    void step(double metric);

private:
    bool is_better(double a) const;

    Optimizer& optimizer_;
    SchedulerMode mode_;
    double factor_;
    int patience_;
    double threshold_;
    ThresholdMode threshold_mode_;
    int cooldown_;
    std::vector<double> min_lrs_;
    double eps_;
    double best_;
    int num_bad_epochs_ = 0;
    int cooldown_counter_ = 0;
};

}  // namespace ctgrad::optim

// Compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <algorithm>

namespace ctgrad::optim {

CTGRAD_API ReduceLROnPlateauScheduler::ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode,
                                                                  double factor, int patience, double threshold,
                                                                  ThresholdMode threshold_mode, int cooldown,
                                                                  const std::vector<double>& min_lr, double eps)
    : optimizer_(optimizer), mode_(mode), factor_(factor), patience_(patience), threshold_(threshold),
      threshold_mode_(threshold_mode), cooldown_(cooldown), eps_(eps),
      best_(mode == min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity()) {
    const std::size_t groups = optimizer.param_groups().size();
    if (!(factor < 1.0)) throw Error("ReduceLROnPlateauScheduler: Factor should be < 1.0, got " + std::to_string(factor));
    if (min_lr.empty()) min_lrs_.assign(groups, 0.0);
    else if (min_lr.size() == 1) min_lrs_.assign(groups, min_lr[0]);
    else if (min_lr.size() == groups) min_lrs_ = min_lr;
    else
        throw Error("ReduceLROnPlateauScheduler: expected " + std::to_string(groups) + " min_lrs, got " +
                    std::to_string(min_lr.size()));
}

CTGRAD_API bool ReduceLROnPlateauScheduler::is_better(double a) const {
    if (mode_ == min) return threshold_mode_ == rel ? a < best_ * (1. - threshold_) : a < best_ - threshold_;
    return threshold_mode_ == rel ? a > best_ * (threshold_ + 1.) : a > best_ + threshold_;
}

CTGRAD_API void ReduceLROnPlateauScheduler::step(double metric) {
    auto& groups = optimizer_.param_groups();
    if (groups.size() != min_lrs_.size())
        throw Error("ReduceLROnPlateauScheduler: the optimizer has " + std::to_string(groups.size()) +
                    " param groups, the scheduler was made for " + std::to_string(min_lrs_.size()));
    if (is_better(metric)) {
        best_ = metric;
        num_bad_epochs_ = 0;
    } else {
        ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
        --cooldown_counter_;
        num_bad_epochs_ = 0;  // bad steps in the cooldown do not count
    }
    if (num_bad_epochs_ > patience_) {
        for (std::size_t i = 0; i < groups.size(); ++i) {
            const double old_lr = groups[i].options().get_lr();
            const double new_lr = std::max(old_lr * factor_, min_lrs_[i]);
            if (old_lr - new_lr > eps_) groups[i].options().set_lr(new_lr);
        }
        cooldown_counter_ = cooldown_;
        num_bad_epochs_ = 0;
    }
}

}  // namespace ctgrad::optim
#endif  // CTGRAD_RUNTIME_DEFINITIONS

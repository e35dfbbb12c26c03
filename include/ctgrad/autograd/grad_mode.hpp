#pragma once
// Whether operations record a graph: a per-thread switch, so that independent graphs on
// different threads (and a no-grad update on one of them) do not see each other.
namespace ctgrad {

namespace autograd {
struct GradMode {
    static bool is_enabled() { return flag(); }
    static void set_enabled(bool enabled) { flag() = enabled; }

private:
    static bool& flag() {
        thread_local bool enabled = true;
        return enabled;
    }
};

// Sets grad mode for a scope and restores the previous one (libtorch's AutoGradMode).
class AutoGradMode {
public:
    explicit AutoGradMode(bool enabled) : previous_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
    ~AutoGradMode() { GradMode::set_enabled(previous_); }
    AutoGradMode(const AutoGradMode&) = delete;
    AutoGradMode& operator=(const AutoGradMode&) = delete;

private:
    bool previous_;
};
}  // namespace autograd

// `ctgrad::NoGradGuard no_grad;` is PyTorch's `with torch.no_grad():`.
class NoGradGuard : public autograd::AutoGradMode {
public:
    NoGradGuard() : AutoGradMode(false) {}
};

using autograd::AutoGradMode;
using autograd::GradMode;

}  // namespace ctgrad

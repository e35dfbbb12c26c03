// The first seed text's curve fit (seed0_curve_fit_adam.cpp) trained data-parallel over MPI:
// fit w0 x^2 + w1 x + w2 to 5x^2 + 3 with Adam (lr 0.1), 1000 steps, each rank drawing its own
// 100 samples of U(-10, 10) per step, so that a step sees 100 x (number of ranks) samples.
// DistributedDataParallel starts every rank from rank 0's w and averages the gradients after
// each backward pass, so the ranks' w stay equal. Run it with
//   mpirun -np 2 build/examples/ddp_curve_fit
// (test/distributed/run_mpi.py adds the flags a container needs). Rank 0 prints.
#include <ctgrad/distributed.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include <iostream>

#include "common/pyprint.hpp"

namespace F = ctgrad::nn::functional;
namespace dist = ctgrad::distributed;

// The seed's model, w as the one parameter of a module (DistributedDataParallel wraps modules).
struct CurveImpl : ctgrad::nn::Module {
    CurveImpl() {
        // Assuming we know that the desired function is a polynomial of 2nd degree, we allocate
        // a vector of size 3 to hold the coefficients and initialize it with random noise.
        w = register_parameter("w", ctgrad::randn({3, 1}));
    }
    // We define yhat to be our estimate of y.
    ctgrad::Tensor forward(const ctgrad::Tensor& x) {
        auto f = ctgrad::stack({x * x, x, ctgrad::ones_like(x)}, 1);
        return f.matmul(w).squeeze(1);
    }
    ctgrad::Tensor w;
};
CTGRAD_MODULE(Curve);

std::pair<ctgrad::Tensor, ctgrad::Tensor> generate_data() {
    // Generate some training data based on the true function
    auto x = ctgrad::rand({100}) * 20 - 10;
    auto y = 5 * x * x + 3;
    return {x, y};
}

int main() {
    auto group = dist::ProcessGroupMPI::createProcessGroupMPI();
    const int rank = group->get_rank();

    ctgrad::manual_seed(0);  // seed_all(): the same w everywhere (the wrapper broadcasts rank 0's anyway)
    Curve model;
    dist::DistributedDataParallel ddp(model, group);
    ctgrad::manual_seed(1 + rank);  // but each rank its own samples

    // We use the Adam optimizer with learning rate set to 0.1 to minimize the loss.
    ctgrad::optim::Adam opt(ddp.parameters(), ctgrad::optim::AdamOptions(0.1));

    for (int i = 0; i < 1000; ++i) {
        auto [x, y] = generate_data();
        // The loss is the mean squared error on this rank's samples; the average of the ranks'
        // gradients is the gradient of the mean over all of them.
        auto loss = F::mse_loss(ddp(x), y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }

    // Every rank holds the same w: rank 0's copy, broadcast, equals each rank's own.
    ctgrad::Tensor from_rank_0 = model->w.detach().clone();
    group->broadcast(from_rank_0, 0);
    ctgrad::Tensor same = ctgrad::tensor({model->w.detach().equal(from_rank_0) ? 1L : 0L});
    group->allreduce(same);
    if (rank == 0) {
        py::print("ranks:", group->get_world_size(), "samples per step:", 100 * group->get_world_size());
        py::print("replicas equal:", same.item<std::int64_t>() == group->get_world_size() ? "True" : "False");
        py::print(ctgrad::numpy_str(model->w.detach()));
    }
}

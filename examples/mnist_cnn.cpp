// A small convolutional classifier in the style of pytorch/examples' cpp/mnist: two Conv2d
// layers with max_pool2d and relu (Dropout2d on the second), two Linear layers with dropout
// between them, log_softmax and nll_loss, trained with SGD and momentum on MNIST-shaped data
// read through ctgrad::data (MNIST, Normalize, Stack, a data loader). The original's batches of
// 64 and learning rate of 0.01 are for 60000 images; on 512 images, batches of 32 and a rate of
// 0.1 learn in 3 epochs (about 2/3 of the test images right).
//
// Usage: mnist_cnn DATA_DIR [EPOCHS]. DATA_DIR holds the four IDX files of MNIST; the test
// (examples/meson.build) uses a synthetic set of 512 training and 128 test images written by
// tools/make_mnist_idx.py.
//
// Written as a libtorch program (`namespace torch = ctgrad;` is the only change from one), and
// tested against tools/reference_examples.py, which trains the same network in PyTorch 1.13
// after the same manual_seed: Conv2d's and Linear's initial weights are PyTorch's, both loaders
// go through the images in order (SequentialSampler, where the original's test loader shuffles),
// and the reference's dropout draws its masks as ctgrad's does (rand(...) < 1 - p, from the same
// generator; PyTorch's own bernoulli_ draws other numbers), so the two runs print the same
// losses up to float32 rounding and the same accuracies (examples/expected/mnist_cnn.txt).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include <ctgrad/data.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

namespace torch = ctgrad;

namespace {

constexpr std::int64_t train_batch_size = 32;
constexpr std::int64_t test_batch_size = 1000;
constexpr std::int64_t log_interval = 4;

struct NetImpl : torch::nn::Module {
    NetImpl()
        : conv1(torch::nn::Conv2dOptions(1, 10, /*kernel_size=*/5)),
          conv2(torch::nn::Conv2dOptions(10, 20, /*kernel_size=*/5)),
          fc1(320, 50),
          fc2(50, 10) {
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("conv2_drop", conv2_drop);
        register_module("fc1", fc1);
        register_module("fc2", fc2);
    }

    torch::Tensor forward(torch::Tensor x) {
        x = torch::relu(torch::max_pool2d(conv1->forward(x), 2));                       // [N, 10, 12, 12]
        x = torch::relu(torch::max_pool2d(conv2_drop->forward(conv2->forward(x)), 2));  // [N, 20, 4, 4]
        x = x.view({-1, 320});
        x = torch::relu(fc1->forward(x));
        x = torch::dropout(x, /*p=*/0.5, /*train=*/is_training());
        x = fc2->forward(x);
        return torch::log_softmax(x, /*dim=*/1);
    }

    torch::nn::Conv2d conv1;
    torch::nn::Conv2d conv2;
    torch::nn::Dropout2d conv2_drop;
    torch::nn::Linear fc1;
    torch::nn::Linear fc2;
};
TORCH_MODULE(Net);

template <typename DataLoader>
void train(std::size_t epoch, Net& model, DataLoader& data_loader, torch::optim::Optimizer& optimizer,
           std::size_t dataset_size) {
    model->train();
    std::size_t batch_idx = 0, seen = 0;
    for (auto& batch : data_loader) {
        optimizer.zero_grad();
        torch::Tensor output = model->forward(batch.data);
        torch::Tensor loss = torch::nll_loss(output, batch.target);
        loss.backward();
        optimizer.step();
        seen += static_cast<std::size_t>(batch.data.size(0));
        if (++batch_idx % log_interval == 0)
            std::printf("Train Epoch: %zu [%5zu/%5zu] Loss: %.6f\n", epoch, seen, dataset_size, loss.item<float>());
    }
}

template <typename DataLoader>
void test(Net& model, DataLoader& data_loader, std::size_t dataset_size) {
    torch::NoGradGuard no_grad;
    model->eval();
    double test_loss = 0;
    std::int64_t correct = 0;
    for (const auto& batch : data_loader) {
        torch::Tensor output = model->forward(batch.data);
        test_loss += torch::nll_loss(output, batch.target, /*weight=*/{}, torch::Reduction::Sum).template item<float>();
        torch::Tensor pred = output.argmax(1);
        correct += pred.eq(batch.target).sum().template item<std::int64_t>();
    }
    test_loss /= static_cast<double>(dataset_size);
    std::printf("Test set: Average loss: %.6f | Accuracy: %lld/%zu\n", test_loss, static_cast<long long>(correct),
                dataset_size);
}

int run(const std::string& data_root, std::size_t epochs) {
    torch::manual_seed(1);

    Net model;

    auto train_dataset = torch::data::datasets::MNIST(data_root)
                             .map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
                             .map(torch::data::transforms::Stack<>());
    const std::size_t train_dataset_size = train_dataset.size().value();
    auto train_loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        std::move(train_dataset), train_batch_size);

    auto test_dataset = torch::data::datasets::MNIST(data_root, torch::data::datasets::MNIST::Mode::kTest)
                            .map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
                            .map(torch::data::transforms::Stack<>());
    const std::size_t test_dataset_size = test_dataset.size().value();
    auto test_loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        std::move(test_dataset), test_batch_size);

    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.5));

    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        train(epoch, model, *train_loader, optimizer, train_dataset_size);
        test(model, *test_loader, test_dataset_size);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DATA_DIR [EPOCHS]\n", argv[0]);
        return 2;
    }
    try {
        return run(argv[1], argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 3);
    } catch (const std::exception& e) {  // a missing or damaged data file: MNIST says which and why
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}

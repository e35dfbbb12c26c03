// ctgrad's CUDA library on whatever machine runs the tests. CI has nvcc but no GPU: there the
// library must register itself without touching the GPU, say that none is available, and turn
// every attempt to use one into ctgrad::Error, leaving the program able to go on on the CPU.
// With a GPU the same program checks that a round trip works.
#include <doctest/doctest.h>

#include <ctgrad/tensor.hpp>

#include "../support/errors.hpp"
#include "../support/values.hpp"

using namespace ctgrad;

TEST_CASE("the CUDA library registers for kCUDA and reports the GPU it finds") {
    CHECK(has_device_kernels(kCUDA));
    CHECK(device_kernels(Device(kCUDA), "test").backend_name() == "cuda");
    const Tensor cpu = arange(4, kFloat);
    if (!cuda::is_available()) {
        MESSAGE("no CUDA GPU here: checking the errors a program without one gets");
        CHECK(cuda::device_count() == 0);
        CTGRAD_CHECK_ERROR(cpu.cuda(), "cuda: no CUDA GPU found");
        CTGRAD_CHECK_ERROR(zeros({2}, device(kCUDA)), "cuda: no CUDA GPU found");
        CTGRAD_CHECK_ERROR(cuda::synchronize(), "cuda");
        // Nothing changed: the CPU side carries on.
        CHECK(ctgrad_test::values_of(cpu * 2) == std::vector<double>{0, 2, 4, 6});
        return;
    }
    CHECK(cuda::device_count() >= 1);
    const Tensor gpu = cpu.cuda();
    CHECK(gpu.is_cuda());
    CHECK(ctgrad_test::values_of((gpu * 2).cpu()) == std::vector<double>{0, 2, 4, 6});
    cuda::synchronize();
}

#pragma once
// datasets::MNIST: the MNIST digits from the four IDX files of Yann LeCun's distribution in a
// directory (libtorch's torch::data::datasets::MNIST):
//
//   train-images-idx3-ubyte  train-labels-idx1-ubyte   (Mode::kTrain, the default)
//   t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte    (Mode::kTest)
//
// images(): float [N, 1, 28, 28], each byte b as b / 255 in float (libtorch reads bytes and
// divides by 255 after converting to float: the same values); targets(): int64 [N], the digits.
// get(i) is the example {images()[i], targets()[i]}.
//
// The files are untrusted. Before anything is allocated from a number in them: the big-endian
// header's magic numbers (2051 for images, 2049 for labels), rows = cols = 28, equal counts in
// both files, and each file's size exactly its header plus count * 784 (images) or count
// (labels) bytes; every label must be a digit 0-9. Any failure, or a missing file, throws
// ctgrad::Error naming the file and what was expected, and no dataset is made. Unlike libtorch,
// which insists on 60000 training and 10000 test images, any count the headers agree on is
// accepted (docs/data.md).
#include <cstddef>
#include <optional>
#include <string>

#include "../../core/config.hpp"
#include "../../tensor/tensor.hpp"
#include "../example.hpp"
#include "base.hpp"

namespace ctgrad::data::datasets {

class MNIST : public Dataset<MNIST> {
public:
    enum class Mode { kTrain, kTest };

    explicit MNIST(const std::string& root, Mode mode = Mode::kTrain);

    Example<> get(std::size_t index) override;

    std::optional<std::size_t> size() const override;

    // Whether this is the training set (Mode::kTrain). libtorch answers by the image count.
    bool is_train() const noexcept { return train_; }

    const Tensor& images() const { return images_; }
    const Tensor& targets() const { return targets_; }

private:
    Tensor images_, targets_;
    bool train_;
};

// Its batches are the library's too (Dataset::get_batch for MNIST).
#if !defined(CTGRAD_HEADER_ONLY) && !defined(CTGRAD_BUILDING_RUNTIME)
extern template class Dataset<MNIST>;
#endif

}  // namespace ctgrad::data::datasets

// The IDX reader and the examples, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

#include "../../tensor/functions.hpp"

namespace ctgrad::data::datasets {

namespace detail::idx {

inline constexpr std::uint32_t image_magic = 2051;  // 0x00000803: unsigned bytes, 3 dims
inline constexpr std::uint32_t label_magic = 2049;  // 0x00000801: unsigned bytes, 1 dim
inline constexpr std::uint32_t side = 28;

// One IDX file, opened and measured, its header read: nothing is read beyond what its size
// holds, and every failure names the file.
class file {
public:
    file(std::string path, const char* what, const char* expected) : path_(std::move(path)), what_(what), expected_(expected) {
        in_.open(path_, std::ios::binary);
        if (!in_)
            throw Error("MNIST: cannot open the " + std::string(what_) + " file '" + path_ + "' (expected " + expected_ +
                        "): " + std::strerror(errno));
        in_.seekg(0, std::ios::end);
        const std::streamoff end = in_.tellg();
        in_.seekg(0);
        if (end < 0 || !in_) fail("cannot be read: its size is unknown (not a regular file?)");
        size_ = static_cast<std::uint64_t>(end);
    }

    // A big-endian 32-bit field of the header.
    std::uint32_t u32(const char* field) {
        unsigned char b[4];
        read(b, 4, field);
        return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    }

    void read(void* dst, std::uint64_t bytes, const char* field) {
        if (bytes > size_ - position_)
            fail("is truncated: it has " + std::to_string(size_) + " bytes, too few for " + field);
        in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
        if (in_.gcount() != static_cast<std::streamsize>(bytes)) fail("could not be read (while reading " + std::string(field) + ")");
        position_ += bytes;
    }

    void expect_magic(std::uint32_t magic) {
        const std::uint32_t found = u32("its magic number");
        if (found != magic)
            fail("is not an MNIST " + std::string(what_) + " file: its magic number is " + std::to_string(found) +
                 ", expected " + std::to_string(magic) + " (" + expected_ + ")");
    }

    // The file must be exactly its header and `payload` bytes of data: checked before the
    // data's tensor is allocated.
    void expect_payload(std::uint64_t payload, const std::string& described) {
        const std::uint64_t want = position_ + payload;
        if (size_ < want)
            fail("is truncated: its header announces " + described + ", " + std::to_string(want) + " bytes in all, and the file has " +
                 std::to_string(size_));
        if (size_ > want)
            fail("has " + std::to_string(size_ - want) + " unexpected bytes after the " + described + " its header announces");
    }

    [[noreturn]] void fail(const std::string& problem) const {
        throw Error("MNIST: the " + std::string(what_) + " file '" + path_ + "' " + problem);
    }

private:
    std::string path_;
    const char* what_;
    const char* expected_;
    std::ifstream in_;
    std::uint64_t size_ = 0, position_ = 0;
};

inline std::string join(const std::string& root, const char* name) {
    if (root.empty() || root.back() == '/') return root + name;
    return root + "/" + name;
}

}  // namespace detail::idx

CTGRAD_API MNIST::MNIST(const std::string& root, Mode mode) : train_(mode == Mode::kTrain) {
    namespace idx = detail::idx;
    idx::file images(idx::join(root, train_ ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte"), "images",
                     "an IDX file of 28x28 images, magic number 2051");
    idx::file labels(idx::join(root, train_ ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte"), "labels",
                     "an IDX file of labels, magic number 2049");

    // Both headers, and both sizes, before any allocation.
    images.expect_magic(idx::image_magic);
    const std::uint32_t count = images.u32("the image count");
    const std::uint32_t rows = images.u32("the row count"), cols = images.u32("the column count");
    if (rows != idx::side || cols != idx::side)
        images.fail("holds images of " + std::to_string(rows) + "x" + std::to_string(cols) + " pixels, expected 28x28");
    const std::uint64_t pixels = std::uint64_t{count} * idx::side * idx::side;
    images.expect_payload(pixels, std::to_string(count) + " images of 28x28 bytes");
    labels.expect_magic(idx::label_magic);
    const std::uint32_t label_count = labels.u32("the label count");
    if (label_count != count)
        labels.fail("holds " + std::to_string(label_count) + " labels, and its images file holds " + std::to_string(count) +
                    " images: expected as many labels as images");
    labels.expect_payload(count, std::to_string(count) + " labels of one byte");

    const auto n = static_cast<std::int64_t>(count);
    Tensor image_tensor = ctgrad::empty({n, 1, idx::side, idx::side}, ctgrad::dtype(kFloat));
    Tensor target_tensor = ctgrad::empty({n}, ctgrad::dtype(kLong));

    // The pixels, a block at a time; float(b) / 255 is libtorch's to(kFloat32).div_(255).
    float* out = image_tensor.data_ptr<float>();
    std::vector<unsigned char> block(std::size_t{1} << 20);
    for (std::uint64_t done = 0; done < pixels;) {
        const std::uint64_t step = std::min<std::uint64_t>(block.size(), pixels - done);
        images.read(block.data(), step, "the pixels");
        for (std::uint64_t i = 0; i < step; ++i) out[done + i] = static_cast<float>(block[i]) / 255.0f;
        done += step;
    }
    std::vector<unsigned char> digits(count);
    labels.read(digits.data(), count, "the labels");
    std::int64_t* targets = target_tensor.data_ptr<std::int64_t>();
    for (std::uint32_t i = 0; i < count; ++i) {
        if (digits[i] > 9)
            labels.fail("holds the label " + std::to_string(digits[i]) + " for image " + std::to_string(i) + ", not a digit 0-9");
        targets[i] = digits[i];
    }
    images_ = std::move(image_tensor);
    targets_ = std::move(target_tensor);
}

CTGRAD_API Example<> MNIST::get(std::size_t index) {
    const auto i = static_cast<std::int64_t>(index);
    return {images_[i], targets_[i]};
}

CTGRAD_API std::optional<std::size_t> MNIST::size() const { return static_cast<std::size_t>(images_.size(0)); }

#if defined(CTGRAD_BUILDING_RUNTIME)
template class Dataset<MNIST>;
#endif

}  // namespace ctgrad::data::datasets
#endif  // CTGRAD_RUNTIME_DEFINITIONS

// ctgrad::data: the MNIST reader on IDX files written here (values, shapes, dtypes, scaling) and
// on damaged or missing ones (each an Error naming the file, raised before a bad size allocates);
// Normalize against its formula, Stack, the lambdas; randperm; the Sequential and Random
// samplers; the data loader's batches, drop_last and epochs; and a small training loop over a
// loader of MNIST-shaped files.
#include "../support/errors.hpp"
#include <doctest/doctest.h>

#include <ctgrad/data.hpp>
#include <ctgrad/nn.hpp>
#include <ctgrad/optim.hpp>
#include <ctgrad/tensor.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace data = ctgrad::data;
using ctgrad::Tensor;
using ctgrad_test::check_error;

// --- IDX files -----------------------------------------------------------------------------------

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

// An IDX image file: the header (magic, count, rows, cols; count may lie) and the pixel bytes.
std::string image_bytes(const std::vector<unsigned char>& pixels, std::uint32_t count, std::uint32_t rows = 28,
                        std::uint32_t cols = 28, std::uint32_t magic = 2051) {
    std::string out;
    put_u32(out, magic);
    put_u32(out, count);
    put_u32(out, rows);
    put_u32(out, cols);
    out.append(pixels.begin(), pixels.end());
    return out;
}

std::string label_bytes(const std::vector<unsigned char>& labels, std::uint32_t count, std::uint32_t magic = 2049) {
    std::string out;
    put_u32(out, magic);
    put_u32(out, count);
    out.append(labels.begin(), labels.end());
    return out;
}

// Pixel k of image i: a pattern that reaches 0 and 255.
unsigned char pixel_of(std::size_t i, std::size_t k) { return static_cast<unsigned char>((i * 37 + k * 11) % 256); }

std::vector<unsigned char> pixels_for(std::size_t count) {
    std::vector<unsigned char> p(count * 784);
    for (std::size_t i = 0; i < count; ++i)
        for (std::size_t k = 0; k < 784; ++k) p[i * 784 + k] = pixel_of(i, k);
    return p;
}

// A fresh directory, removed at the end of the test.
struct TempDir {
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() / ("ctgrad_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::string str() const { return path.string(); }
    fs::path path;
};

// A valid training set of `labels.size()` images (and a test set of 3) in dir.
void write_mnist(const fs::path& dir, const std::vector<unsigned char>& labels) {
    const auto n = static_cast<std::uint32_t>(labels.size());
    write_file(dir / "train-images-idx3-ubyte", image_bytes(pixels_for(n), n));
    write_file(dir / "train-labels-idx1-ubyte", label_bytes(labels, n));
    write_file(dir / "t10k-images-idx3-ubyte", image_bytes(pixels_for(3), 3));
    write_file(dir / "t10k-labels-idx1-ubyte", label_bytes({7, 0, 9}, 3));
}

std::vector<float> floats_of(const Tensor& t) {
    const Tensor c = t.contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}
std::vector<std::int64_t> longs_of(const Tensor& t) {
    const Tensor c = t.contiguous();
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

// --- a small dataset ----------------------------------------------------------------------------

// Example i: data [2] = {i, -i}, target i.
struct Numbers : data::datasets::Dataset<Numbers> {
    explicit Numbers(std::size_t n) : n(n) {}
    data::Example<> get(std::size_t i) override {
        const double v = static_cast<double>(i);
        return {ctgrad::tensor({v, -v}), ctgrad::tensor(static_cast<std::int64_t>(i))};
    }
    std::optional<std::size_t> size() const override { return n; }
    std::size_t n;
};

struct Unsized : data::datasets::Dataset<Unsized> {
    data::Example<> get(std::size_t) override { return {}; }
    std::optional<std::size_t> size() const override { return std::nullopt; }
};

// The targets of every batch of an epoch, batch by batch.
template <class Loader>
std::vector<std::vector<std::int64_t>> epoch_targets(Loader& loader) {
    std::vector<std::vector<std::int64_t>> out;
    for (auto& batch : loader) out.push_back(longs_of(batch.target));
    return out;
}

bool is_permutation_of_range(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] != static_cast<std::int64_t>(i)) return false;
    return true;
}

}  // namespace

TEST_CASE("MNIST reads the IDX files: float images in [0, 1], int64 targets") {
    TempDir dir;
    write_mnist(dir.path, {3, 1, 4, 1, 5});
    data::datasets::MNIST train(dir.str());
    CHECK(train.is_train());
    CHECK(train.size().value() == 5);
    CHECK(train.images().sizes().vec() == std::vector<std::int64_t>{5, 1, 28, 28});
    CHECK(train.images().scalar_type() == ctgrad::kFloat);
    CHECK(train.targets().sizes().vec() == std::vector<std::int64_t>{5});
    CHECK(train.targets().scalar_type() == ctgrad::kLong);
    CHECK(longs_of(train.targets()) == std::vector<std::int64_t>{3, 1, 4, 1, 5});
    const auto values = floats_of(train.images());
    bool exact = true;
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t k = 0; k < 784; ++k)
            exact = exact && values[i * 784 + k] == static_cast<float>(pixel_of(i, k)) / 255.0f;
    CHECK(exact);
    CHECK(*std::min_element(values.begin(), values.end()) == 0.0f);
    CHECK(*std::max_element(values.begin(), values.end()) == 1.0f);

    const auto example = train.get(2);
    CHECK(example.data.sizes().vec() == std::vector<std::int64_t>{1, 28, 28});
    CHECK(example.target.dim() == 0);
    CHECK(example.target.item<std::int64_t>() == 4);
    CHECK(floats_of(example.data)[100] == static_cast<float>(pixel_of(2, 100)) / 255.0f);
    CHECK(train.get_batch(std::vector<std::size_t>{4, 0}).size() == 2);

    data::datasets::MNIST test(dir.str() + "/", data::datasets::MNIST::Mode::kTest);
    CHECK_FALSE(test.is_train());
    CHECK(test.size().value() == 3);
    CHECK(longs_of(test.targets()) == std::vector<std::int64_t>{7, 0, 9});

    // An empty set is a set: zero images, as the headers say.
    write_file(dir.path / "train-images-idx3-ubyte", image_bytes({}, 0));
    write_file(dir.path / "train-labels-idx1-ubyte", label_bytes({}, 0));
    CHECK(data::datasets::MNIST(dir.str()).images().sizes().vec() == std::vector<std::int64_t>{0, 1, 28, 28});
}

TEST_CASE("MNIST refuses missing and damaged files, naming the file, before sizing anything from them") {
    TempDir dir;
    const std::string root = dir.str();
    const std::string images = root + "/train-images-idx3-ubyte", labels = root + "/train-labels-idx1-ubyte";
    auto load = [&] { data::datasets::MNIST m(root); };

    SUBCASE("missing files") {
        check_error([&] { data::datasets::MNIST m(root + "/nowhere"); },
                    "cannot open the images file '" + root + "/nowhere/train-images-idx3-ubyte' (expected an IDX file of 28x28 images, magic number 2051)");
        write_file(images, image_bytes(pixels_for(2), 2));
        check_error(load, "cannot open the labels file '" + labels + "' (expected an IDX file of labels, magic number 2049)");
        check_error([&] { data::datasets::MNIST m(root, data::datasets::MNIST::Mode::kTest); },
                    "'" + root + "/t10k-images-idx3-ubyte'");
    }
    write_mnist(dir.path, {1, 2, 3, 4, 5});
    SUBCASE("a wrong magic number") {
        write_file(images, image_bytes(pixels_for(5), 5, 28, 28, 2049));
        check_error(load, "the images file '" + images + "' is not an MNIST images file: its magic number is 2049, expected 2051");
        write_file(images, image_bytes(pixels_for(5), 5));
        write_file(labels, label_bytes({1, 2, 3, 4, 5}, 5, 2051));
        check_error(load, "the labels file '" + labels + "' is not an MNIST labels file: its magic number is 2051, expected 2049");
        // A little-endian header is a wrong magic number too.
        std::string swapped = image_bytes(pixels_for(5), 5);
        std::reverse(swapped.begin(), swapped.begin() + 4);
        write_file(images, swapped);
        write_file(labels, label_bytes({1, 2, 3, 4, 5}, 5));
        check_error(load, "its magic number is 50855936, expected 2051");
    }
    SUBCASE("shorter than its header") {
        write_file(images, std::string("\0\0\x08", 3));
        check_error(load, "the images file '" + images + "' is truncated: it has 3 bytes, too few for its magic number");
        write_file(images, image_bytes(pixels_for(5), 5).substr(0, 10));
        check_error(load, "'" + images + "' is truncated: it has 10 bytes, too few for the row count");
    }
    SUBCASE("truncated pixels or labels") {
        auto bytes = image_bytes(pixels_for(5), 5);
        bytes.pop_back();
        write_file(images, bytes);
        check_error(load, "the images file '" + images +
                              "' is truncated: its header announces 5 images of 28x28 bytes, 3936 bytes in all, and the file has 3935");
        write_file(images, image_bytes(pixels_for(5), 5));
        write_file(labels, label_bytes({1, 2, 3, 4}, 5));
        check_error(load, "the labels file '" + labels + "' is truncated: its header announces 5 labels of one byte, 13 bytes in all, and the file has 12");
    }
    SUBCASE("a count far beyond the file is refused before it sizes an allocation") {
        // 2^32 - 1 images would be 13 TB of floats: the size check comes first.
        write_file(images, image_bytes(pixels_for(1), 0xffffffffu));
        check_error(load, "the images file '" + images + "' is truncated: its header announces 4294967295 images of 28x28 bytes, 3367254359296 bytes in all, and the file has 800");
        write_file(images, image_bytes(pixels_for(5), 5));
        write_file(labels, label_bytes({1, 2, 3, 4, 5}, 0xffffffffu));
        check_error(load, "holds 4294967295 labels, and its images file holds 5 images");
    }
    SUBCASE("bytes after the data") {
        write_file(images, image_bytes(pixels_for(5), 5) + "xy");
        check_error(load, "the images file '" + images + "' has 2 unexpected bytes after the 5 images of 28x28 bytes its header announces");
    }
    SUBCASE("counts that differ between the files") {
        write_file(labels, label_bytes({1, 2, 3, 4}, 4));
        check_error(load, "the labels file '" + labels + "' holds 4 labels, and its images file holds 5 images: expected as many labels as images");
    }
    SUBCASE("images that are not 28x28") {
        write_file(images, image_bytes(std::vector<unsigned char>(5 * 32 * 32), 5, 32, 32));
        check_error(load, "the images file '" + images + "' holds images of 32x32 pixels, expected 28x28");
        write_file(images, image_bytes(pixels_for(5), 5, 28, 27));
        check_error(load, "holds images of 28x27 pixels, expected 28x28");
    }
    SUBCASE("a label that is not a digit") {
        write_file(labels, label_bytes({1, 2, 10, 4, 5}, 5));
        check_error(load, "the labels file '" + labels + "' holds the label 10 for image 2, not a digit 0-9");
    }
}

TEST_CASE("Normalize is (data - mean) / stddev, in float") {
    ctgrad::manual_seed(3);
    const Tensor x = ctgrad::rand({1, 28, 28});
    data::transforms::Normalize<> normalize(0.1307, 0.3081);
    const Tensor y = normalize(x);
    CHECK(y.sizes().vec() == x.sizes().vec());
    CHECK(y.scalar_type() == ctgrad::kFloat);
    const auto in = floats_of(x), out = floats_of(y);
    bool exact = true;
    for (std::size_t i = 0; i < in.size(); ++i) exact = exact && out[i] == (in[i] - 0.1307f) / 0.3081f;
    CHECK(exact);

    // On an example: the data changes, the target stays.
    const auto e = normalize.apply({x, ctgrad::tensor(std::int64_t{7})});
    CHECK(ctgrad::equal(e.data, y));
    CHECK(e.target.item<std::int64_t>() == 7);
    CHECK(normalize.apply_batch({{x, ctgrad::tensor(std::int64_t{1})}, {x, ctgrad::tensor(std::int64_t{2})}}).size() == 2);

    // One mean and one stddev per channel, along the first dim.
    const Tensor c = ctgrad::rand({3, 2, 2});
    data::transforms::Normalize<> per_channel({0.5, 0.4, 0.3}, {0.2, 0.25, 0.5});
    const auto cin = floats_of(c), cout = floats_of(per_channel(c));
    const float means[] = {0.5f, 0.4f, 0.3f}, stds[] = {0.2f, 0.25f, 0.5f};
    exact = true;
    for (std::size_t i = 0; i < cin.size(); ++i) exact = exact && cout[i] == (cin[i] - means[i / 4]) / stds[i / 4];
    CHECK(exact);
    check_error([&] { per_channel(ctgrad::rand({2, 3, 3})); },
                "Normalize: 3 per-channel values for data of shape [2, 3, 3]: expected its first dim (channels) to have 3 entries");
    check_error([] { data::transforms::Normalize<>({0.5, 0.4}, {0.2, 0.2, 0.2}); },
                "Normalize: expected one mean and one standard deviation, or one of each per channel; got 2 means and 3 standard deviations");
}

TEST_CASE("Stack collates examples into one; the lambdas apply functions") {
    std::vector<data::Example<>> batch;
    for (int i = 0; i < 3; ++i)
        batch.push_back({ctgrad::full({1, 2, 2}, static_cast<double>(i)), ctgrad::tensor(std::int64_t{10 + i})});
    const auto stacked = data::transforms::Stack<>().apply_batch(batch);
    CHECK(stacked.data.sizes().vec() == std::vector<std::int64_t>{3, 1, 2, 2});
    CHECK(stacked.target.sizes().vec() == std::vector<std::int64_t>{3});
    CHECK(longs_of(stacked.target) == std::vector<std::int64_t>{10, 11, 12});
    CHECK(floats_of(stacked.data) == std::vector<float>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2});

    std::vector<data::TensorExample> plain{ctgrad::ones({2}), ctgrad::zeros({2})};
    CHECK(floats_of(data::transforms::Stack<data::TensorExample>().apply_batch(plain).data) == std::vector<float>{1, 1, 0, 0});
    check_error([] {
        data::transforms::Stack<>().apply_batch({{ctgrad::ones({2}), ctgrad::ones({})}, {ctgrad::ones({3}), ctgrad::ones({})}});
    }, "stack");

    data::transforms::TensorLambda<> twice([](Tensor t) { return t * 2; });
    CHECK(floats_of(twice.apply({ctgrad::ones({2}), ctgrad::ones({})}).data) == std::vector<float>{2, 2});
    data::transforms::Lambda<data::Example<>> swap([](data::Example<> e) { return data::Example<>{e.target, e.data}; });
    CHECK(swap.apply({ctgrad::ones({2}), ctgrad::zeros({})}).data.dim() == 0);
    data::transforms::BatchLambda<std::vector<data::Example<>>, std::size_t> count([](std::vector<data::Example<>> b) { return b.size(); });
    CHECK(count.apply_batch(batch) == 3);
}

TEST_CASE("randperm: a permutation of 0 .. n-1 from the generator") {
    for (std::int64_t n : {0, 1, 2, 10, 1000}) {
        const Tensor p = ctgrad::randperm(n);
        CHECK(p.scalar_type() == ctgrad::kLong);
        CHECK(p.sizes().vec() == std::vector<std::int64_t>{n});
        CHECK(is_permutation_of_range(longs_of(p)));
    }
    ctgrad::manual_seed(42);
    const auto first = longs_of(ctgrad::randperm(100));
    const auto second = longs_of(ctgrad::randperm(100));
    ctgrad::manual_seed(42);
    CHECK(longs_of(ctgrad::randperm(100)) == first);
    CHECK(first != second);
    // ATen's algorithm: position i swaps with i + (32-bit draw mod (n - i)), for i < n - 1.
    ctgrad::Generator g(42);
    std::vector<std::int64_t> expected(100);
    std::iota(expected.begin(), expected.end(), 0);
    for (std::int64_t i = 0; i + 1 < 100; ++i) std::swap(expected[i], expected[i + g.random() % (100 - i)]);
    CHECK(first == expected);

    const Tensor f = ctgrad::randperm(5, ctgrad::dtype(ctgrad::kFloat));
    CHECK(f.scalar_type() == ctgrad::kFloat);
    auto fv = floats_of(f);
    std::sort(fv.begin(), fv.end());
    CHECK(fv == std::vector<float>{0, 1, 2, 3, 4});
    check_error([] { ctgrad::randperm(-1); }, "randperm: n must be non-negative, got -1");
    check_error([] { ctgrad::randperm(3, ctgrad::dtype(ctgrad::kBool)); }, "not implemented for 'Bool'");
    check_error([] { ctgrad::randperm((std::int64_t{1} << 24) + 2, ctgrad::dtype(ctgrad::kFloat)); }, "n cannot be greater than 2^24+1 for Float type");
}

TEST_CASE("samplers: sequential in order, random a new permutation each epoch") {
    data::samplers::SequentialSampler seq(7);
    CHECK(seq.next(3).value() == std::vector<std::size_t>{0, 1, 2});
    CHECK(seq.next(3).value() == std::vector<std::size_t>{3, 4, 5});
    CHECK(seq.index() == 6);
    CHECK(seq.next(3).value() == std::vector<std::size_t>{6});
    CHECK_FALSE(seq.next(3).has_value());
    seq.reset();
    CHECK(seq.next(10).value() == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
    seq.reset(2);
    CHECK(seq.next(10).value() == std::vector<std::size_t>{0, 1});

    auto epoch = [](data::samplers::RandomSampler& s, std::size_t batch) {
        std::vector<std::int64_t> all;
        while (auto indices = s.next(batch)) {
            CHECK(indices->size() <= batch);
            for (auto i : *indices) all.push_back(static_cast<std::int64_t>(i));
        }
        return all;
    };
    ctgrad::manual_seed(1);
    data::samplers::RandomSampler random(50);
    const auto e1 = epoch(random, 8);
    CHECK(e1.size() == 50);
    CHECK(is_permutation_of_range(e1));
    CHECK(random.index() == 50);
    random.reset();
    const auto e2 = epoch(random, 8);
    CHECK(is_permutation_of_range(e2));
    CHECK(e1 != e2);
    // The same seed, the same epochs; and the constructor's permutation is randperm's.
    ctgrad::manual_seed(1);
    const auto perm = longs_of(ctgrad::randperm(50));
    CHECK(perm == e1);
    ctgrad::manual_seed(1);
    data::samplers::RandomSampler again(50);
    CHECK(epoch(again, 50) == e1);
    again.reset();
    CHECK(epoch(again, 7) == e2);
    again.reset(5);
    CHECK(is_permutation_of_range(epoch(again, 2)));
    data::samplers::RandomSampler as_float(10, ctgrad::kFloat);
    CHECK(is_permutation_of_range(epoch(as_float, 3)));
}

TEST_CASE("make_data_loader: batches of the sampler's indices, drop_last, epochs") {
    using data::samplers::SequentialSampler;
    auto loader = data::make_data_loader<SequentialSampler>(Numbers(10).map(data::transforms::Stack<>()), 4);
    CHECK(loader->options().batch_size == 4);
    CHECK(loader->options().workers == 0);
    CHECK_FALSE(loader->options().drop_last);
    std::vector<std::int64_t> sizes;
    for (auto& batch : *loader) {
        CHECK(batch.data.dim() == 2);
        CHECK(batch.data.size(1) == 2);
        sizes.push_back(batch.data.size(0));
    }
    CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
    // A second epoch starts over.
    const auto epoch = epoch_targets(*loader);
    CHECK(epoch == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
    CHECK(epoch_targets(*loader) == epoch);
    // The data belong to the targets.
    for (auto& batch : *loader) {
        const auto d = floats_of(batch.data);
        const auto t = longs_of(batch.target);
        for (std::size_t i = 0; i < t.size(); ++i) CHECK(d[2 * i + 1] == -static_cast<float>(t[i]));
    }

    auto dropping = data::make_data_loader<SequentialSampler>(
        Numbers(10).map(data::transforms::Stack<>()), data::DataLoaderOptions().batch_size(4).drop_last(true));
    CHECK(epoch_targets(*dropping) == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}});
    auto exact = data::make_data_loader<SequentialSampler>(
        Numbers(8).map(data::transforms::Stack<>()), data::DataLoaderOptions(4).drop_last(true));
    CHECK(epoch_targets(*exact).size() == 2);

    // Without Stack, a batch is the vector of examples.
    auto unstacked = data::make_data_loader<SequentialSampler>(Numbers(5), 2);
    std::vector<std::size_t> counts;
    for (auto& batch : *unstacked) counts.push_back(batch.size());
    CHECK(counts == std::vector<std::size_t>{2, 2, 1});

    // Workers are accepted and the batches still come, in order, on this thread.
    auto threaded = data::make_data_loader<SequentialSampler>(
        Numbers(5).map(data::transforms::Stack<>()), data::DataLoaderOptions().batch_size(2).workers(3));
    CHECK(threaded->options().workers == 3);
    CHECK(threaded->options().max_jobs == 6);
    CHECK(epoch_targets(*threaded) == std::vector<std::vector<std::int64_t>>{{0, 1}, {2, 3}, {4}});
    auto limited = data::make_data_loader<SequentialSampler>(Numbers(2), data::DataLoaderOptions(1).workers(2).max_jobs(1));
    CHECK(limited->options().max_jobs == 1);
}

TEST_CASE("make_data_loader: a random sampler by default, a new order each epoch, repeatable by seed") {
    auto run = [] {
        auto loader = data::make_data_loader(Numbers(20).map(data::transforms::Stack<>()), data::DataLoaderOptions().batch_size(6));
        std::vector<std::vector<std::int64_t>> epochs;
        for (int e = 0; e < 3; ++e) {
            std::vector<std::int64_t> all;
            std::vector<std::size_t> sizes;
            for (auto& batch : *loader) {
                sizes.push_back(static_cast<std::size_t>(batch.target.numel()));
                for (auto t : longs_of(batch.target)) all.push_back(t);
            }
            CHECK(sizes == std::vector<std::size_t>{6, 6, 6, 2});
            CHECK(is_permutation_of_range(all));
            epochs.push_back(all);
        }
        return epochs;
    };
    ctgrad::manual_seed(7);
    const auto a = run();
    CHECK(a[0] != a[1]);
    CHECK(a[1] != a[2]);
    ctgrad::manual_seed(7);
    CHECK(run() == a);
    // As libtorch: the constructor draws one permutation and each begin() draws the epoch's.
    ctgrad::manual_seed(7);
    (void)ctgrad::randperm(20);
    CHECK(longs_of(ctgrad::randperm(20)) == a[0]);
}

TEST_CASE("data loader errors and iterators") {
    check_error([] { data::make_data_loader(Numbers(3), 0); }, "DataLoader: batch_size must be positive, got 0");
    check_error([] { data::make_data_loader(Unsized()); },
                "make_data_loader: expected the dataset to be sized in order to construct the Sampler");
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(Numbers(3).map(data::transforms::Stack<>()), 2);
    check_error([&] { *loader->end(); }, "attempted to dereference the end (sentinel) iterator");
    auto it = loader->begin();
    auto other = loader->begin();
    check_error([&] { (void)(it == other); }, "two non-sentinel iterators of a DataLoader cannot be compared");
    it = loader->begin();
    CHECK(it != loader->end());
    CHECK(longs_of(it->target) == std::vector<std::int64_t>{0, 1});
    ++it;
    CHECK(longs_of((*it).target) == std::vector<std::int64_t>{2});
    ++it;
    CHECK(it == loader->end());
    check_error([&] { *it; }, "attempted to dereference an iterator that was past the end");
    check_error([&] { ++it; }, "attempted to increment an iterator past the end");
    CHECK(loader->end() == loader->end());
}

TEST_CASE("a training loop over MNIST-shaped files learns") {
    // 200 images in 10 classes: class c lights rows 2c+4 .. 2c+6, plus a faint pattern for all.
    TempDir dir;
    const std::uint32_t n = 200;
    std::vector<unsigned char> pixels(n * 784), labels(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t c = (i * 7) % 10;
        labels[i] = static_cast<unsigned char>(c);
        for (std::uint32_t k = 0; k < 784; ++k) {
            const std::uint32_t row = k / 28;
            const bool lit = row >= 2 * c + 4 && row < 2 * c + 7 && (k % 28) >= 6 && (k % 28) < 22;
            pixels[i * 784 + k] = static_cast<unsigned char>(lit ? 200 + (i + k) % 56 : (i * 13 + k * 5) % 40);
        }
    }
    write_file(dir.path / "train-images-idx3-ubyte", image_bytes(pixels, n));
    write_file(dir.path / "train-labels-idx1-ubyte", label_bytes(labels, n));

    ctgrad::manual_seed(0);
    auto dataset = data::datasets::MNIST(dir.str())
                       .map(data::transforms::Normalize<>(0.1307, 0.3081))
                       .map(data::transforms::Stack<>());
    const std::size_t dataset_size = dataset.size().value();
    CHECK(dataset_size == n);
    auto loader = data::make_data_loader(std::move(dataset), 32);
    ctgrad::nn::Linear model(784, 10);
    ctgrad::optim::SGD optimizer(model->parameters(), ctgrad::optim::SGDOptions(0.05));
    const ctgrad::Device device(ctgrad::kCPU);

    auto epoch_loss = [&](bool train) {
        double total = 0;
        std::int64_t correct = 0;
        for (auto& batch : *loader) {
            auto x = batch.data.to(device), targets = batch.target.to(device);
            CHECK(x.sizes().vec() == std::vector<std::int64_t>{x.size(0), 1, 28, 28});
            auto output = ctgrad::log_softmax(model(x.view({x.size(0), 784})), 1);
            auto loss = ctgrad::nll_loss(output, targets);
            if (train) {
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            total += loss.item<double>() * static_cast<double>(x.size(0));
            correct += std::get<1>(output.max(1)).eq(targets).sum().item<std::int64_t>();
        }
        return std::make_pair(total / static_cast<double>(dataset_size), correct);
    };
    const auto before = epoch_loss(false);
    for (int epoch = 0; epoch < 5; ++epoch) epoch_loss(true);
    const auto after = epoch_loss(false);
    MESSAGE("loss " << before.first << " -> " << after.first << ", correct " << before.second << " -> " << after.second);
    CHECK(after.first < before.first / 4);
    CHECK(after.second >= 190);
}

// Every loader against damaged files: ctgrad::load into a module, a Tensor and a vector of
// Tensors (serialize.hpp, versions 1 and 2), and load_npy (tensor/npy.hpp). From small valid
// files, every truncation and some thousands of seeded mutations (bit flips, bytes set to 0,
// 0xFF or a random value, bytes inserted or deleted, size fields set to huge values, and for
// version 2 header fields changed with the checksum made right again, so that the checks behind
// the checksum are reached too). Each damaged file must load or throw ctgrad::Error naming the
// loader and the file; after an error the target is unchanged, after a load the result is a
// consistent tensor. A version-2 archive whose bytes changed (its version still 2) must never
// load: the checksum sees it. Deterministic (fixed seeds); the figures are in docs/nn.md.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <ctgrad/nn.hpp>
#include <ctgrad/tensor.hpp>

#ifndef CTGRAD_REFERENCE_DIR
#error "CTGRAD_REFERENCE_DIR must name test/reference (test/meson.build defines it)"
#endif

namespace nn = ctgrad::nn;
using ctgrad::Tensor;

namespace {

// How many random mutations each seed file gets.
constexpr int mutations_per_file = 600;

std::string scratch_file(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("ctgrad_load_fuzz_" + name)).string();
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The bytes of a tensor's elements, row-major: comparing them is exact for NaNs and -0 too.
std::string element_bytes(const Tensor& t) {
    const Tensor c = t.contiguous();
    return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit: written here independently
// of the zlib call the library makes, so the test also pins the checksum's definition.
std::uint32_t crc32_of(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char b : bytes) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

// --- ctgrad's archive, written field by field ---------------------------------------------------

struct archive_item {
    std::uint8_t kind;  // 0 parameter, 1 buffer, 2 tensor
    std::string name;
    Tensor value;
};

std::uint8_t dtype_code(ctgrad::ScalarType s) {
    switch (s) {
        case ctgrad::kFloat: return 0;
        case ctgrad::kDouble: return 1;
        case ctgrad::kLong: return 2;
        case ctgrad::kBool: return 3;
    }
    return 255;
}

// The archive of `items` in format `version`, as the description at the top of serialize.hpp
// reads. With `changed_field` >= 0, that integer field (counted from the version, in file order)
// is written as `changed_value` instead (truncated to its width), and a version-2 checksum is
// computed over what was written, so the damage hides from the checksum.
std::string encode(const std::vector<archive_item>& items, std::uint32_t version, int changed_field = -1,
                   std::uint64_t changed_value = 0, int* field_count = nullptr) {
    std::string out = "ctgrad-tensors\n";
    int field = 0;
    auto num = [&](auto v) {
        if (field++ == changed_field) v = static_cast<decltype(v)>(changed_value);
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    };
    num(version);
    num(static_cast<std::uint64_t>(items.size()));
    for (const auto& item : items) {
        const std::size_t start = out.size();
        num(item.kind);
        num(static_cast<std::uint32_t>(item.name.size()));
        out += item.name;
        num(dtype_code(item.value.scalar_type()));
        num(static_cast<std::uint32_t>(item.value.dim()));
        for (auto s : item.value.sizes()) num(static_cast<std::int64_t>(s));
        num(static_cast<std::uint64_t>(item.value.nbytes()));
        out += element_bytes(item.value);
        if (version == 2) {
            const std::uint32_t crc = crc32_of(out.substr(start));
            out.append(reinterpret_cast<const char*>(&crc), sizeof crc);
        }
    }
    if (field_count) *field_count = field;
    return out;
}

// --- the mutations -----------------------------------------------------------------------------

constexpr std::array<std::uint64_t, 10> huge_values = {
    std::uint64_t{1} << 31, std::uint64_t{1} << 32, std::uint64_t{1} << 40, std::uint64_t{1} << 48,
    std::uint64_t{1} << 62, std::uint64_t{1} << 63, (std::uint64_t{1} << 63) - 1, ~std::uint64_t{0},
    ~std::uint64_t{0} - 7, 0xFFFFFFFFu};

// One random change of `bytes` (never the same bytes back, except an overwrite with the same value).
std::string mutate(std::string bytes, std::mt19937_64& rng) {
    auto below = [&](std::size_t n) { return static_cast<std::size_t>(rng() % (n ? n : 1)); };
    switch (rng() % 7) {
        case 0:  // flip one bit
            if (!bytes.empty()) bytes[below(bytes.size())] ^= static_cast<char>(1u << (rng() % 8));
            break;
        case 1:  // set a byte to 0, 0xFF or a random value
            if (!bytes.empty()) {
                const std::uint64_t r = rng() % 3;
                bytes[below(bytes.size())] = static_cast<char>(r == 0 ? 0 : r == 1 ? 0xFF : rng() & 0xFF);
            }
            break;
        case 2:  // insert 1 to 8 bytes
            bytes.insert(below(bytes.size() + 1), std::string(1 + rng() % 8, static_cast<char>(rng() & 0xFF)));
            break;
        case 3:  // delete 1 to 8 bytes
            if (!bytes.empty()) {
                const std::size_t at = below(bytes.size());
                bytes.erase(at, 1 + rng() % 8);
            }
            break;
        case 4:  // a huge value over 4 or 8 bytes anywhere (a size or count, wherever it lands)
        case 5: {
            const std::size_t width = rng() % 2 ? 8 : 4;
            if (bytes.size() >= width) {
                const std::uint64_t v = huge_values[rng() % huge_values.size()];
                std::memcpy(bytes.data() + below(bytes.size() - width + 1), &v, width);
            }
            break;
        }
        default:  // two changes at once
            bytes = mutate(mutate(std::move(bytes), rng), rng);
    }
    return bytes;
}

// --- the loaders' targets ------------------------------------------------------------------------

// A module with every dtype, an empty tensor and a 0-d one among its parameters and buffers.
struct SampleImpl : nn::Module {
    SampleImpl() {
        weight = register_parameter("weight", ctgrad::randn({2, 3}));
        scale = register_parameter("scale", ctgrad::randn({2}, ctgrad::kDouble));
        offset = register_parameter("offset", ctgrad::randn({}));
        counts = register_buffer("counts", ctgrad::arange(3));
        mask = register_buffer("mask", ctgrad::ones({2}, ctgrad::kBool));
        none = register_buffer("none", ctgrad::zeros({0, 2}));
    }
    Tensor weight, scale, offset, counts, mask, none;
};
CTGRAD_MODULE(Sample);

std::vector<archive_item> items_of(const nn::Module& m) {
    std::vector<archive_item> items;
    for (const auto& p : m.named_parameters()) items.push_back({0, p.key(), p.value()});
    for (const auto& b : m.named_buffers()) items.push_back({1, b.key(), b.value()});
    return items;
}

// A loaded tensor must be a tensor every op can read: contiguous, its bytes in its storage,
// bools 0 or 1 (reading all of it lets ASan see any overrun).
void check_consistent(const Tensor& t) {
    REQUIRE(t.defined());
    INFO("a loaded " << std::string(ctgrad::dtype_name(t.scalar_type())) << " tensor of shape " << ctgrad::shape_str(t.sizes()));
    // (ctgrad's is_contiguous() says false for some empty shapes such as [2, 0]: nothing to lay out)
    CHECK((t.numel() == 0 || t.is_contiguous()));
    std::int64_t n = 1;
    for (auto s : t.sizes()) {
        REQUIRE(s >= 0);
        n *= s;
    }
    CHECK(t.numel() == n);
    const std::string bytes = element_bytes(t);
    CHECK(bytes.size() == static_cast<std::size_t>(n) * t.element_size());
    if (t.scalar_type() == ctgrad::kBool)
        for (char b : bytes) CHECK((b == 0 || b == 1));
}

// Figures of one run, printed at the end.
struct tally {
    long cases = 0, loaded = 0, rejected = 0;
};

// Runs one damaged file through a loader: it loads (then `on_load` checks the result) or throws
// ctgrad::Error whose message starts with `prefix` (then `unchanged` checks the target).
void run_case(tally& t, const std::string& path, const std::string& bytes, const std::string& prefix,
              const std::function<void()>& load, const std::function<void()>& on_load,
              const std::function<void()>& unchanged, bool must_fail) {
    write_file(path, bytes);
    ++t.cases;
    try {
        load();
    } catch (const ctgrad::Error& e) {
        ++t.rejected;
        const std::string message = e.what();
        INFO("message: " << message);
        CHECK(message.rfind(prefix, 0) == 0);
        unchanged();
        return;
    } catch (const std::exception& e) {
        FAIL("a damaged file of " << bytes.size() << " bytes threw something else than ctgrad::Error: " << e.what());
        return;
    }
    ++t.loaded;
    if (must_fail) {
        FAIL_CHECK("a changed version-2 archive of " << bytes.size() << " bytes loaded despite its checksum");
        return;
    }
    on_load();
}

// Every truncation, then the random mutations, of one seed file.
void fuzz_file(const std::string& seed, std::uint64_t rng_seed, bool checksummed,
               const std::function<void(const std::string& bytes, bool must_fail)>& one) {
    for (std::size_t cut = 0; cut < seed.size(); ++cut) one(seed.substr(0, cut), true);  // never a whole file
    std::mt19937_64 rng(rng_seed);
    for (int i = 0; i < mutations_per_file; ++i) {
        const std::string bytes = mutate(seed, rng);
        // A version-2 file that is still marked version 2 and is not the seed must be refused.
        const bool still_v2 = checksummed && bytes.size() >= 19 && bytes.compare(15, 4, seed, 15, 4) == 0;
        one(bytes, still_v2 && bytes != seed);
    }
}

// Every integer field of a version-2 archive set to each huge value (and 0, 1 and the value +-1),
// with the checksum made right again.
void fuzz_fields(const std::vector<archive_item>& items, const std::function<void(const std::string& bytes)>& one) {
    int fields = 0;
    encode(items, 2, -1, 0, &fields);
    for (int f = 1; f < fields; ++f) {  // field 0 is the version
        std::vector<std::uint64_t> values(huge_values.begin(), huge_values.end());
        for (std::uint64_t small : {0, 1, 2, 3, 4, 64, 65}) values.push_back(small);
        for (std::uint64_t v : values) one(encode(items, 2, f, v));
    }
}

}  // namespace

TEST_CASE("the archive format is the one described: save's bytes are the hand-encoded version 2") {
    ctgrad::manual_seed(7);
    Sample module;
    const std::string path = scratch_file("format.bin");
    ctgrad::save(module, path);
    const std::string written = read_file(path), expected = encode(items_of(*module), 2);
    CHECK(written == expected);
    const std::vector<Tensor> list = {ctgrad::randn({3}, ctgrad::kDouble), ctgrad::arange(4).reshape({2, 2})};
    ctgrad::save(list, path);
    CHECK(read_file(path) == encode({{2, "0", list[0]}, {2, "1", list[1]}}, 2));
    std::remove(path.c_str());
}

TEST_CASE("ctgrad::load of a module: damaged files load consistently or throw, and change nothing") {
    ctgrad::manual_seed(1);
    Sample source, target;
    const auto items = items_of(*source);
    const std::string path = scratch_file("module.bin");
    const std::string prefix = "ctgrad::load: '" + path + "'";
    std::vector<std::string> snapshot;
    for (const auto& p : target->parameters()) snapshot.push_back(element_bytes(p));
    for (const auto& b : target->buffers()) snapshot.push_back(element_bytes(b));
    auto tensors = [&] {
        auto all = target->parameters();
        for (const auto& b : target->buffers()) all.push_back(b);
        return all;
    };
    auto unchanged = [&] {
        const auto all = tensors();
        for (std::size_t i = 0; i < all.size(); ++i) CHECK(element_bytes(all[i]) == snapshot[i]);
    };
    auto on_load = [&] {
        for (const auto& t : tensors()) check_consistent(t);
        // back to the snapshot for the next case
        ctgrad::NoGradGuard no_grad;
        const auto all = tensors();
        for (std::size_t i = 0; i < all.size(); ++i)
            if (!snapshot[i].empty()) std::memcpy(all[i].data_ptr(), snapshot[i].data(), snapshot[i].size());
    };
    tally t;
    auto one = [&](const std::string& bytes, bool must_fail) {
        run_case(t, path, bytes, prefix, [&] { ctgrad::load(target, path); }, on_load, unchanged, must_fail);
    };
    fuzz_file(encode(items, 1), 11, false, one);
    fuzz_file(encode(items, 2), 12, true, one);
    fuzz_fields(items, [&](const std::string& bytes) { one(bytes, false); });
    MESSAGE("module: " << t.cases << " damaged files, " << t.rejected << " refused, " << t.loaded << " loaded");
    CHECK(t.rejected > t.cases / 2);
    std::remove(path.c_str());
}

TEST_CASE("ctgrad::load of a Tensor and of a vector of Tensors: damaged files load consistently or throw") {
    ctgrad::manual_seed(2);
    const Tensor one_tensor = ctgrad::randn({3, 2});
    const std::vector<Tensor> list = {ctgrad::randn({2}, ctgrad::kDouble), ctgrad::arange(3), ctgrad::zeros({2, 0}),
                                      ctgrad::ones({}, ctgrad::kBool)};
    std::vector<archive_item> list_items;
    for (std::size_t i = 0; i < list.size(); ++i) list_items.push_back({2, std::to_string(i), list[i]});
    const std::string path = scratch_file("tensors.bin");
    const std::string prefix = "ctgrad::load: '" + path + "'";
    tally t;

    const Tensor sentinel = ctgrad::full({2}, 42.0);
    Tensor tensor_target = sentinel;
    auto tensor_case = [&](const std::string& bytes, bool must_fail) {
        run_case(
            t, path, bytes, prefix, [&] { ctgrad::load(tensor_target, path); },
            [&] {
                check_consistent(tensor_target);
                tensor_target = sentinel;
            },
            [&] { CHECK(tensor_target.is_same(sentinel)); }, must_fail);
    };
    fuzz_file(encode({{2, "0", one_tensor}}, 1), 21, false, tensor_case);
    fuzz_file(encode({{2, "0", one_tensor}}, 2), 22, true, tensor_case);
    fuzz_fields({{2, "0", one_tensor}}, [&](const std::string& bytes) { tensor_case(bytes, false); });

    std::vector<Tensor> list_target = {sentinel};
    auto list_case = [&](const std::string& bytes, bool must_fail) {
        run_case(
            t, path, bytes, prefix, [&] { ctgrad::load(list_target, path); },
            [&] {
                for (const auto& x : list_target) check_consistent(x);
                list_target = {sentinel};
            },
            [&] {
                REQUIRE(list_target.size() == 1);
                CHECK(list_target[0].is_same(sentinel));
            },
            must_fail);
    };
    fuzz_file(encode(list_items, 1), 23, false, list_case);
    fuzz_file(encode(list_items, 2), 24, true, list_case);
    fuzz_fields(list_items, [&](const std::string& bytes) { list_case(bytes, false); });
    MESSAGE("tensor and vector: " << t.cases << " damaged files, " << t.rejected << " refused, " << t.loaded << " loaded");
    CHECK(t.rejected > t.cases / 2);
    std::remove(path.c_str());
}

TEST_CASE("load_npy: damaged files load consistently or throw naming the file") {
    const std::string path = scratch_file("array.npy");
    const std::string prefix = "load_npy: '" + path + "'";
    std::vector<std::string> seeds;
    ctgrad::manual_seed(3);
    for (const Tensor& t : {ctgrad::randn({2, 3}), ctgrad::arange(4), ctgrad::ones({3}, ctgrad::kBool),
                            ctgrad::zeros({0, 2}, ctgrad::kDouble)}) {
        ctgrad::save_npy(t, path);
        seeds.push_back(read_file(path));
    }
    for (const char* name : {"f8_fortran", "f8_big_endian"})  // numpy's own files
        seeds.push_back(read_file(std::string(CTGRAD_REFERENCE_DIR) + "/npy/" + name + ".npy"));
    tally t;
    // A file equal to its seed (a byte overwritten with its own value) gives the seed's array.
    auto one = [&](const std::string& bytes, const std::string& seed, bool must_fail) {
        run_case(
            t, path, bytes, prefix,
            [&] {
                const Tensor loaded = ctgrad::load_npy(path);
                check_consistent(loaded);
                if (bytes == seed) {
                    write_file(path, seed);
                    const Tensor expected = ctgrad::load_npy(path);
                    CHECK(loaded.sizes().vec() == expected.sizes().vec());
                    CHECK(element_bytes(loaded) == element_bytes(expected));
                }
            },
            [] {}, [] {}, must_fail);
    };
    std::mt19937_64 rng(31);
    for (const auto& seed : seeds) {
        for (std::size_t cut = 0; cut < seed.size(); ++cut) one(seed.substr(0, cut), seed, true);
        for (int i = 0; i < mutations_per_file; ++i) one(mutate(seed, rng), seed, false);
        // The shape's sizes replaced by huge ones, and the header's length by a huge one, in
        // files that are otherwise right (the header length field made to match).
        const std::size_t open = seed.find("'shape': (") + 10, close = seed.find(')', open);
        const std::string dims[] = {"0", "1", "3", "2147483648", "1099511627776", "4611686018427387904",
                                    "9223372036854775807", "9223372036854775808", "18446744073709551616"};
        for (int i = 0; i < 100; ++i) {
            std::string shape;
            const std::size_t rank = rng() % 4;
            for (std::size_t d = 0; d < rank; ++d) shape += dims[rng() % std::size(dims)] + ", ";
            std::string header = seed.substr(10, open - 10) + shape + seed.substr(close, seed.find('\n', close) - close);
            header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
            header += '\n';
            std::string bytes = seed.substr(0, 8) + "  " + header + seed.substr(seed.find('\n', close) + 1);
            bytes[8] = static_cast<char>(header.size() & 0xff);
            bytes[9] = static_cast<char>(header.size() >> 8);
            one(bytes, seed, false);
        }
        for (std::uint32_t length : {0xFFFFu, 0xFFFFFFFFu, 0x7FFFFFFFu}) {
            std::string bytes = seed.substr(0, 8) + std::string(reinterpret_cast<const char*>(&length), 4) + seed.substr(10);
            bytes[6] = 2;  // version 2.0: a 4-byte header length
            one(bytes, seed, false);
        }
    }
    MESSAGE("load_npy: " << t.cases << " damaged files, " << t.rejected << " refused, " << t.loaded << " loaded");
    CHECK(t.rejected > t.cases / 2);
    std::remove(path.c_str());
}

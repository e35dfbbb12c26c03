// save_npy / load_npy: numpy-written files (test/reference/npy/) load right and np.save's bytes
// come back; round trips whatever the layout; missing and corrupt files.
#include "../support/errors.hpp"
#include "../support/values.hpp"
#include <doctest/doctest.h>

#include <ctgrad/serialize.hpp>
#include <ctgrad/tensor.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#ifndef CTGRAD_REFERENCE_DIR
#error "CTGRAD_REFERENCE_DIR must name test/reference (test/meson.build defines it)"
#endif

namespace {

using ctgrad::Tensor;
using ctgrad_test::check_error;
using ctgrad_test::from_values;
namespace fs = std::filesystem;

// Same dtype, sizes and elements (exactly; int64 beyond double's 53 bits too).
bool same_elements(const Tensor& x, const Tensor& y) {
    if (x.scalar_type() != y.scalar_type() || x.sizes().vec() != y.sizes().vec()) return false;
    bool same = true;
    ctgrad::dispatch_dtype(x.scalar_type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const Tensor a = x.contiguous(), b = y.contiguous();
        same = std::equal(a.data_ptr<T>(), a.data_ptr<T>() + a.numel(), b.data_ptr<T>());
    });
    return same;
}

std::string npy_reference(const std::string& name) { return std::string(CTGRAD_REFERENCE_DIR) + "/npy/" + name + ".npy"; }

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A scratch directory, removed at the end of the test.
struct scratch_dir {
    fs::path path;
    scratch_dir() {
        path = fs::temp_directory_path() / ("ctgrad-npy-" + std::to_string(std::random_device{}()));
        fs::create_directories(path);
    }
    ~scratch_dir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// The arrays of tools/reference_npy.py, built here.
struct npy_expectation {
    std::string name;
    Tensor value;
    bool saved_like_numpy;  // np.save wrote this file with the bytes save_npy must give
};

std::vector<npy_expectation> npy_expectations() {
    std::vector<double> quarters, eighths;
    for (int i = 0; i < 6; ++i) quarters.push_back(i * 0.5 - 1.25);
    for (int i = 0; i < 24; ++i) eighths.push_back(i / 8.0);
    Tensor longs = ctgrad::empty({5}, ctgrad::kLong);
    const std::int64_t lv[] = {-3, 0, 7, (std::int64_t(1) << 40) + 1, -(std::int64_t(1) << 62)};
    std::copy(std::begin(lv), std::end(lv), longs.data_ptr<std::int64_t>());
    return {
        {"f4_2x3", from_values({2, 3}, quarters, ctgrad::kFloat), true},
        {"f8_scalar", ctgrad::scalar_tensor(3.25, ctgrad::kDouble), true},
        {"i8_vec", longs, true},
        {"b1_2x2", from_values({2, 2}, {1, 0, 0, 1}, ctgrad::kBool), true},
        {"f4_empty", ctgrad::zeros({0, 3}, ctgrad::kFloat), true},
        {"f8_fortran", from_values({2, 3, 4}, eighths, ctgrad::kDouble), false},
        {"f8_big_endian", from_values({3}, {1.5, -2.25, 1e300}, ctgrad::kDouble), false},
    };
}

}  // namespace

TEST_CASE("load_npy reads numpy's files; save_npy writes np.save's bytes") {
    for (const auto& e : npy_expectations()) {
        SUBCASE(e.name.c_str()) {
            const Tensor loaded = ctgrad::load_npy(npy_reference(e.name));
            CHECK(loaded.scalar_type() == e.value.scalar_type());
            CHECK(loaded.sizes().vec() == e.value.sizes().vec());
            CHECK(loaded.is_contiguous());
            CHECK(same_elements(loaded, e.value));
            if (e.saved_like_numpy) {
                scratch_dir dir;
                ctgrad::save_npy(e.value, dir / "out.npy");
                CHECK(file_bytes(dir / "out.npy") == file_bytes(npy_reference(e.name)));
            }
        }
    }
    SUBCASE("format 2.0") { CHECK(same_elements(ctgrad::load_npy(npy_reference("f4_v2")), ctgrad::arange(4, ctgrad::kFloat))); }
}

TEST_CASE("save_npy then load_npy gives the tensor back, whatever its layout") {
    scratch_dir dir;
    // CTGRAD_NPY_KEEP=DIR keeps the files for `tools/reference_npy.py check DIR` (numpy reads them).
    const char* keep = std::getenv("CTGRAD_NPY_KEEP");
    auto path_for = [&](const std::string& name) {
        return keep ? (fs::path(keep) / (name + ".npy")).string() : dir / (name + ".npy");
    };
    for (const auto& e : npy_expectations()) {
        ctgrad::save_npy(e.value, path_for(e.name));
        const Tensor back = ctgrad::load_npy(path_for(e.name));
        CHECK(back.sizes().vec() == e.value.sizes().vec());
        CHECK(same_elements(back, e.value));
    }
    std::vector<double> v;
    for (int i = 0; i < 12; ++i) v.push_back(i / 4.0);
    const Tensor transposed = from_values({3, 4}, v, ctgrad::kDouble).t();  // saved in logical (C) order
    ctgrad::save_npy(transposed, path_for("f8_transposed"));
    const Tensor back = ctgrad::load_npy(path_for("f8_transposed"));
    CHECK(back.sizes().vec() == std::vector<std::int64_t>{4, 3});
    CHECK(same_elements(back, transposed));
    const Tensor leaf = ctgrad::randn({2, 2}, ctgrad::requires_grad());
    ctgrad::save_npy(leaf * 2, dir / "graph.npy");  // data only: the graph is not saved
    CHECK_FALSE(ctgrad::load_npy(dir / "graph.npy").requires_grad());
}

TEST_CASE("the integer dtypes round-trip through save_npy/load_npy (numpy's |u1 |i1 <i2 <i4) and ctgrad::save/load") {
    scratch_dir dir;
    const std::vector<double> v{0, 1, 100, 127};
    for (ctgrad::ScalarType d : {ctgrad::kByte, ctgrad::kChar, ctgrad::kShort, ctgrad::kInt}) {
        INFO(ctgrad::dtype_name(d));
        const Tensor t = from_values({2, 2}, v, d);
        const std::string npy = dir / (std::string(ctgrad::dtype_name(d)) + ".npy");
        ctgrad::save_npy(t, npy);
        const Tensor back = ctgrad::load_npy(npy);
        CHECK(back.scalar_type() == d);
        CHECK(same_elements(back, t));
        const std::string pt = dir / (std::string(ctgrad::dtype_name(d)) + ".pt");
        ctgrad::save(std::vector<Tensor>{t, t.to(ctgrad::kLong)}, pt);
        std::vector<Tensor> loaded;
        ctgrad::load(loaded, pt);
        REQUIRE(loaded.size() == 2);
        CHECK(loaded[0].scalar_type() == d);
        CHECK(loaded[1].scalar_type() == ctgrad::kLong);
        CHECK(same_elements(loaded[0], t));
    }
    // numpy's one-byte header for int8: '|i1' (and '|u1' for uint8)
    CHECK(file_bytes(dir / "Char.npy").find("'descr': '|i1'") != std::string::npos);
    CHECK(file_bytes(dir / "Byte.npy").find("'descr': '|u1'") != std::string::npos);
}

TEST_CASE("load_npy and save_npy: missing and corrupt files name the path and the problem") {
    scratch_dir dir;
    const std::string good = file_bytes(npy_reference("f4_2x3"));
    auto corrupt = [&](const std::string& name, const std::string& bytes, const std::string& fragment) {
        const std::string path = dir / name;
        write_bytes(path, bytes);
        check_error([&] { ctgrad::load_npy(path); }, "load_npy: '" + path + "': " + fragment);
    };
    const std::string missing = dir / "missing.npy";
    check_error([&] { ctgrad::load_npy(missing); }, "load_npy: cannot open '" + missing + "': No such file or directory");
    check_error([&] { ctgrad::load_npy(dir.path.string()); }, "cannot read it: Is a directory");
    corrupt("empty.npy", "", "not a .npy file");
    corrupt("text.npy", "hello, world\n", "not a .npy file");
    corrupt("short_header.npy", good.substr(0, 40), "truncated: the header claims 118 bytes");
    corrupt("short_data.npy", good.substr(0, good.size() - 1),
            "truncated: shape (2, 3) of Float needs 24 bytes of data, the file holds 23");
    std::string version = good;
    version[6] = '\x04';
    corrupt("version.npy", version, "unsupported .npy format version 4.0");
    std::string dtype = good;
    dtype.replace(dtype.find("<f4"), 3, "<u4");
    corrupt("dtype.npy", dtype, "unsupported dtype '<u4'");
    std::string key = good;
    key.replace(key.find("'shape'"), 7, "'shapo'");
    corrupt("key.npy", key, "unexpected key 'shapo'");
    std::string order = good;
    order.replace(order.find("False"), 5, "Nope!");
    corrupt("order.npy", order, "malformed header: 'fortran_order' is neither True nor False");
    std::string shape = good;
    shape.replace(shape.find("(2, 3)"), 6, "(2, x)");
    corrupt("shape.npy", shape, "malformed header: 'shape' must be a tuple of non-negative integers");
    std::string brace = good;
    brace[10] = '[';
    corrupt("brace.npy", brace, "malformed header: expected '{'");

    // The header's shape is checked before it sizes anything: against the data the file holds,
    // and (a zero size beside huge ones) against int64 for the strides' sake, as numpy does.
    auto with_header = [](const std::string& dict, std::size_t data_bytes) {
        std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + "  " + dict + "\n";
        bytes[8] = static_cast<char>((dict.size() + 1) & 0xff);
        bytes[9] = static_cast<char>((dict.size() + 1) >> 8);
        return bytes + std::string(data_bytes, '\0');
    };
    corrupt("claims_2_40.npy", with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", 9),
            "truncated: shape (1099511627776,) of Float needs 4398046511104 bytes of data, the file holds 9");
    corrupt("zero_beside_huge.npy",
            with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4611686018427387904), }", 0),
            "shape (0, 4611686018427387904, 4611686018427387904) of Float is too large (its sizes multiply beyond int64)");
    corrupt("zero_beside_huge_fortran.npy",
            with_header("{'descr': '<f8', 'fortran_order': True, 'shape': (4611686018427387904, 4, 0), }", 0),
            "shape (4611686018427387904, 4, 0) of Double is too large");
    std::string many = "(";
    for (int i = 0; i < 65; ++i) many += "1, ";
    corrupt("65_dims.npy", with_header("{'descr': '<f4', 'fortran_order': False, 'shape': " + many + "), }", 4),
            "the shape has 65 dims (numpy allows at most 64)");
    // The largest sizes numpy accepts beside a zero still load, as an empty tensor.
    write_bytes(dir / "zero_beside_large.npy",
                with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1073741824, 1073741823), }", 0));
    const Tensor empty = ctgrad::load_npy(dir / "zero_beside_large.npy");
    CHECK(empty.numel() == 0);
    CHECK(empty.sizes().vec() == std::vector<std::int64_t>{0, 1073741824, 1073741823});

    const std::string nowhere = dir / "no/such/dir/out.npy";
    check_error([&] { ctgrad::save_npy(ctgrad::ones({2}), nowhere); },
                "save_npy: cannot open '" + nowhere + "' for writing: No such file or directory");
    check_error([&] { ctgrad::save_npy(Tensor(), dir / "undefined.npy"); }, "the tensor is undefined");
}

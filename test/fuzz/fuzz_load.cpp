// libFuzzer target for ctgrad's loaders: ctgrad::load into a module, a Tensor or a vector of
// Tensors, and load_npy. Built with clang and run by tools/fuzz_load.sh (not part of the meson
// build: the doctest suite test/test_load_fuzz.cpp is the bounded, deterministic run CI makes).
//
// CTGRAD_FUZZ_LOADER (module, tensor, list or npy) chooses the loader; each input is the file.
// A damaged file must load or throw ctgrad::Error naming the loader and the file; after an error
// the target is unchanged, after a load it is consistent. Anything else aborts, and so does any
// sanitizer report. With CTGRAD_FUZZ_WRITE_CORPUS=dir the program writes its seed files (valid
// files of every dtype, saved by ctgrad itself) into dir and exits.
#define CTGRAD_HEADER_ONLY
#include <ctgrad/ctgrad.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

enum class loader { module, tensor, list, npy };
loader chosen = loader::module;
std::string scratch;  // the file each input is written to

struct SampleImpl : ctgrad::nn::Module {
    SampleImpl() {
        register_parameter("weight", ctgrad::randn({2, 3}));
        register_parameter("scale", ctgrad::randn({2}, ctgrad::kDouble));
        register_parameter("offset", ctgrad::randn({}));
        register_buffer("counts", ctgrad::arange(3));
        register_buffer("mask", ctgrad::ones({2}, ctgrad::kBool));
        register_buffer("none", ctgrad::zeros({0, 2}));
    }
};
CTGRAD_MODULE(Sample);

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_load: %s\n", what);
    std::abort();
}

std::string bytes_of(const ctgrad::Tensor& t) {
    const ctgrad::Tensor c = t.contiguous();
    return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

void check_consistent(const ctgrad::Tensor& t) {
    if (!t.defined() || !t.is_contiguous()) broken("a loaded tensor is undefined or not contiguous");
    std::int64_t n = 1;
    for (auto s : t.sizes()) {
        if (s < 0) broken("a loaded tensor has a negative size");
        n *= s;
    }
    if (n != t.numel()) broken("a loaded tensor's numel is not the product of its sizes");
    const std::string bytes = bytes_of(t);  // reads every element: ASan sees an overrun
    if (t.scalar_type() == ctgrad::kBool)
        for (char b : bytes)
            if (b != 0 && b != 1) broken("a loaded bool tensor holds a byte other than 0 and 1");
}

// Calls `load`; an error must name the loader and the file.
template <class F>
bool loads(const char* op, F&& load) {
    try {
        load();
        return true;
    } catch (const ctgrad::Error& e) {
        const std::string expected = std::string(op) + ": '" + scratch + "'";
        if (std::string(e.what()).rfind(expected, 0) != 0) {
            std::fprintf(stderr, "message: %s\n", e.what());
            broken("an error does not start with the loader and the file");
        }
        return false;
    }
}

void write_corpus(const std::string& dir) {
    std::filesystem::create_directories(dir);
    ctgrad::manual_seed(0);
    Sample module;
    ctgrad::save(module, dir + "/module.bin");
    ctgrad::save(ctgrad::randn({3, 2}), dir + "/tensor.bin");
    ctgrad::save(std::vector<ctgrad::Tensor>{ctgrad::randn({2}, ctgrad::kDouble), ctgrad::arange(3), ctgrad::zeros({2, 0}),
                                             ctgrad::ones({}, ctgrad::kBool)},
                 dir + "/list.bin");
    ctgrad::save_npy(ctgrad::randn({2, 3}), dir + "/f4.npy");
    ctgrad::save_npy(ctgrad::arange(4), dir + "/i8.npy");
    ctgrad::save_npy(ctgrad::ones({3}, ctgrad::kBool), dir + "/b1.npy");
    ctgrad::save_npy(ctgrad::zeros({0, 2}, ctgrad::kDouble), dir + "/f8_empty.npy");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("CTGRAD_FUZZ_WRITE_CORPUS")) {
        write_corpus(dir);
        std::exit(0);
    }
    const std::string name = std::getenv("CTGRAD_FUZZ_LOADER") ? std::getenv("CTGRAD_FUZZ_LOADER") : "module";
    if (name == "module") chosen = loader::module;
    else if (name == "tensor") chosen = loader::tensor;
    else if (name == "list") chosen = loader::list;
    else if (name == "npy") chosen = loader::npy;
    else broken("CTGRAD_FUZZ_LOADER must be module, tensor, list or npy");
    scratch = (std::filesystem::temp_directory_path() / ("ctgrad_fuzz_load_" + std::to_string(getpid()))).string();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::ofstream out(scratch, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    switch (chosen) {
        case loader::module: {
            static Sample target;
            static const std::vector<std::string> before = [] {
                std::vector<std::string> all;
                for (const auto& p : target->parameters()) all.push_back(bytes_of(p));
                for (const auto& b : target->buffers()) all.push_back(bytes_of(b));
                return all;
            }();
            auto all = target->parameters();
            for (const auto& b : target->buffers()) all.push_back(b);
            const bool ok = loads("ctgrad::load", [&] { ctgrad::load(target, scratch); });
            for (std::size_t i = 0; i < all.size(); ++i) {
                if (ok) {
                    check_consistent(all[i]);
                    if (!before[i].empty()) std::memcpy(all[i].data_ptr(), before[i].data(), before[i].size());
                } else if (bytes_of(all[i]) != before[i]) {
                    broken("a failed load changed the module");
                }
            }
            break;
        }
        case loader::tensor: {
            const ctgrad::Tensor sentinel = ctgrad::ones({2});
            ctgrad::Tensor t = sentinel;
            if (loads("ctgrad::load", [&] { ctgrad::load(t, scratch); })) check_consistent(t);
            else if (!t.is_same(sentinel)) broken("a failed load changed the tensor");
            break;
        }
        case loader::list: {
            const ctgrad::Tensor sentinel = ctgrad::ones({2});
            std::vector<ctgrad::Tensor> list = {sentinel};
            if (loads("ctgrad::load", [&] { ctgrad::load(list, scratch); })) {
                for (const auto& t : list) check_consistent(t);
            } else if (list.size() != 1 || !list[0].is_same(sentinel)) {
                broken("a failed load changed the vector");
            }
            break;
        }
        case loader::npy: {
            ctgrad::Tensor t;
            if (loads("load_npy", [&] { t = ctgrad::load_npy(scratch); })) check_consistent(t);
            break;
        }
    }
    return 0;
}

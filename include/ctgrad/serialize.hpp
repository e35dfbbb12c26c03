#pragma once
// ctgrad::save / ctgrad::load: a module's parameters and buffers, a Tensor, a vector of
// Tensors, or an optimizer's options and state, in ctgrad's own small binary format (not
// PyTorch's zip archives; docs/nn.md, docs/optim.md):
//
//   "ctgrad-tensors\n"  15 bytes of magic
//   u32 version (2), u64 entry count
//   per entry: u8 kind (0 parameter, 1 buffer, 2 tensor, 3 optimizer), u32 name length, name bytes,
//              u8 dtype (0 float, 1 double, 2 long, 3 bool), u32 rank, i64 sizes[rank],
//              u64 byte count, the elements in row-major order,
//              u32 CRC-32 (zlib's crc32) of the entry's bytes from its kind to its last element
//   all integers and elements little-endian.
// Version 1 is the same without the checksums; load reads both, save writes version 2.
// Kind 3 came later within version 2: files without it read as before.
//
// An optimizer's file holds only kind-3 entries: first "optimizer:<name>" (e.g.
// "optimizer:Adam"), an int64 tensor of each param group's parameter count; then per group g
// and option "group.<g>.<option>" (a float64 scalar; a bool option is 0 or 1); then per
// parameter j (counted over the groups in order) that has state, "state.<j>.<field>": an int64
// scalar for a count (Adam's step) and the buffer itself (exp_avg, ...) for each defined one.
//
// load reads and checks the whole file before it changes anything: a missing, foreign,
// truncated, damaged (checksum) or mismatching file throws ctgrad::Error naming the file and the
// problem, and the module (or tensor) keeps its values. The file's bytes are not trusted: a
// name, shape or byte count is checked against the bytes the file has left before it sizes an
// allocation, and a shape whose non-zero sizes multiply beyond int64 (numpy's and PyTorch's
// limit) is refused even beside a zero size, so that no later stride arithmetic overflows.
// Loading into a module copies into its existing parameters and buffers (they keep their
// identity, so an optimizer holding them sees the loaded values); names, dtypes and shapes must
// match exactly.
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/grad_mode.hpp"
#include "core/config.hpp"
#include "nn/module.hpp"
#include "nn/pimpl.hpp"
#include "optim/optimizer.hpp"

namespace ctgrad {
void save(const Tensor& tensor, const std::string& path);
void save(const std::vector<Tensor>& tensors, const std::string& path);
// `tensor` becomes the tensor in the file (a new leaf without grad).
void load(Tensor& tensor, const std::string& path);
void load(std::vector<Tensor>& tensors, const std::string& path);
void save(const nn::Module& module, const std::string& path);
void load(nn::Module& module, const std::string& path);
// The options of every param group and the per-parameter state (libtorch's torch::save of an
// optimizer). load needs an optimizer of the same kind over parameters of the same shapes and
// dtypes, in groups of the same sizes; it replaces every group's options and the whole state,
// so that the next steps continue the saved optimizer's trajectory exactly.
void save(const optim::Optimizer& optimizer, const std::string& path);
void load(optim::Optimizer& optimizer, const std::string& path);
}  // namespace ctgrad

// The format's reader and writer, compiled into the library (see config.hpp).
#if CTGRAD_RUNTIME_DEFINITIONS
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <zlib.h>

#include "ops/inplace.hpp"
#include "tensor/copy.hpp"

namespace ctgrad {

namespace detail::archive {

inline constexpr char magic[] = "ctgrad-tensors\n";
inline constexpr std::size_t magic_size = sizeof(magic) - 1;
inline constexpr std::uint32_t version = 2;          // what save writes
inline constexpr std::uint32_t unchecked_version = 1;  // no checksums; still read
inline constexpr std::uint32_t max_rank = 64;
inline constexpr std::uint32_t max_name = 1u << 16;

enum class kind : std::uint8_t { parameter = 0, buffer = 1, tensor = 2, optimizer = 3 };

struct entry {
    kind what = kind::tensor;
    std::string name;
    Tensor value;
};

inline const char* kind_name(kind k) {
    switch (k) {
        case kind::parameter: return "parameter";
        case kind::buffer: return "buffer";
        case kind::tensor: return "tensor";
        case kind::optimizer: return "optimizer entry";
    }
    return "entry";
}

// A dtype's code in the file is its index here: new dtypes are appended, so that files written
// before them still read.
inline constexpr ScalarType dtype_by_code[] = {kFloat, kDouble, kLong, kBool, kByte, kChar, kShort, kInt};
inline std::uint8_t dtype_code(ScalarType s) {
    for (std::uint8_t c = 0; c < std::size(dtype_by_code); ++c)
        if (dtype_by_code[c] == s) return c;
    return 255;
}

inline void check_host() {
    if constexpr (std::endian::native != std::endian::little)
        throw Error("ctgrad::save/load: the tensor file format is little-endian and this host is not");
}

template <class T>
void put(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// zlib's CRC-32, continued over `size` more bytes (crc32_z takes a size_t: any payload in one call).
// An empty tensor's data pointer may be null, and crc32_z(crc, NULL, 0) returns 0, not crc.
inline std::uint32_t crc_update(std::uint32_t crc, const void* data, std::size_t size) {
    if (size == 0) return crc;
    return static_cast<std::uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

inline void write_file(const std::string& path, const std::vector<entry>& entries) {
    check_host();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("ctgrad::save: cannot open '" + path + "' for writing: " + std::strerror(errno));
    std::string head(magic, magic_size);
    put<std::uint32_t>(head, version);
    put<std::uint64_t>(head, entries.size());
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    for (const auto& e : entries) {
        // Device tensors are written from a host copy; the file does not record the device.
        const Tensor data = e.value.is_contiguous() && e.value.is_cpu() ? e.value : contiguous_copy_on(e.value, Device(kCPU));
        std::string fields;
        put<std::uint8_t>(fields, static_cast<std::uint8_t>(e.what));
        put<std::uint32_t>(fields, static_cast<std::uint32_t>(e.name.size()));
        fields += e.name;
        put<std::uint8_t>(fields, dtype_code(data.scalar_type()));
        put<std::uint32_t>(fields, static_cast<std::uint32_t>(data.dim()));
        for (auto s : data.sizes()) put<std::int64_t>(fields, s);
        put<std::uint64_t>(fields, data.nbytes());
        std::uint32_t crc = crc_update(0, fields.data(), fields.size());
        crc = crc_update(crc, data.data_ptr(), data.nbytes());
        std::string checksum;
        put<std::uint32_t>(checksum, crc);
        out.write(fields.data(), static_cast<std::streamsize>(fields.size()));
        out.write(static_cast<const char*>(data.data_ptr()), static_cast<std::streamsize>(data.nbytes()));
        out.write(checksum.data(), static_cast<std::streamsize>(checksum.size()));
    }
    out.flush();
    if (!out) throw Error("ctgrad::save: writing '" + path + "' failed: " + std::strerror(errno));
}

// Reads every entry of the file; throws (naming the file) on anything malformed. Every read is
// checked against the bytes the file has left (left_), so that no claim of the file's sizes an
// allocation beyond the file itself.
class reader {
public:
    explicit reader(std::string path) : path_(std::move(path)), in_(path_, std::ios::binary) {
        if (!in_) throw Error("ctgrad::load: cannot open '" + path_ + "' for reading: " + std::strerror(errno));
        in_.seekg(0, std::ios::end);
        const std::streamoff end = in_.tellg();
        in_.seekg(0);
        if (end < 0 || !in_) fail("cannot be read: its size is unknown (not a regular file?)");
        left_ = static_cast<std::uint64_t>(end);
    }

    std::vector<entry> read_all() {
        check_host();
        char head[magic_size];
        if (left_ < magic_size) fail("is not a ctgrad tensor file (it is shorter than the magic \"ctgrad-tensors\\n\")");
        read_bytes(head, magic_size, "the magic");
        if (std::memcmp(head, magic, magic_size) != 0)
            fail("is not a ctgrad tensor file (its first bytes are not the magic \"ctgrad-tensors\\n\")");
        const auto v = get<std::uint32_t>("the version");
        if (v != version && v != unchecked_version)
            fail("has format version " + std::to_string(v) + "; this ctgrad reads versions 1 and 2");
        checksummed_ = v == version;
        const auto count = get<std::uint64_t>("the entry count");
        std::vector<entry> entries;
        for (std::uint64_t i = 0; i < count; ++i) entries.push_back(read_entry(i));
        if (left_ != 0) fail("has " + std::to_string(left_) + " unexpected bytes after its last entry");
        return entries;
    }

    [[noreturn]] void fail(const std::string& what) const { throw Error("ctgrad::load: '" + path_ + "' " + what); }

private:
    // Reads `size` bytes into `dst`, continuing the current entry's checksum over them.
    void read_bytes(void* dst, std::uint64_t size, const std::string& what) {
        if (size > left_) fail("is truncated (while reading " + what + ")");
        in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(size));
        if (in_.gcount() != static_cast<std::streamsize>(size)) fail("is truncated (while reading " + what + ")");
        left_ -= size;
        crc_ = crc_update(crc_, dst, static_cast<std::size_t>(size));
    }

    template <class T>
    T get(const std::string& what) {
        T v{};
        read_bytes(&v, sizeof(T), what);
        return v;
    }

    entry read_entry(std::uint64_t index) {
        const std::string where = "entry " + std::to_string(index);
        crc_ = 0;
        entry e;
        const auto k = get<std::uint8_t>("the kind of " + where);
        if (k > 3) fail("is corrupt: " + where + " has an unknown kind " + std::to_string(k));
        e.what = static_cast<kind>(k);
        const auto name_size = get<std::uint32_t>("the name length of " + where);
        if (name_size > max_name) fail("is corrupt: " + where + " has a name of " + std::to_string(name_size) + " bytes");
        if (name_size > left_) fail("is truncated (while reading the name of " + where + ")");
        e.name.resize(name_size);
        read_bytes(e.name.data(), name_size, "the name of " + where);
        const std::string label = "'" + e.name + "'";
        const auto code = get<std::uint8_t>("the dtype of " + label);
        if (code >= std::size(dtype_by_code))
            fail("is corrupt: " + label + " has an unknown dtype code " + std::to_string(code));
        const ScalarType dtype = dtype_by_code[code];
        const auto rank = get<std::uint32_t>("the rank of " + label);
        if (rank > max_rank) fail("is corrupt: " + label + " has rank " + std::to_string(rank));
        std::vector<std::int64_t> sizes(rank);
        for (auto& s : sizes) s = get<std::int64_t>("the sizes of " + label);
        // The product of the non-zero sizes must fit int64 in bytes (numpy's and PyTorch's limit):
        // a zero size makes the tensor empty, but its strides still multiply the other sizes.
        for (auto s : sizes)
            if (s < 0) fail("is corrupt: " + label + " has a negative size in its shape " + shape_str(sizes));
        if (size_product_overflows(sizes, static_cast<std::int64_t>(element_size(dtype))))
            fail("is corrupt: " + label + " has a shape " + shape_str(sizes) + " whose sizes multiply beyond int64");
        std::uint64_t numel = 1;
        for (auto s : sizes) numel *= static_cast<std::uint64_t>(s);
        const auto bytes = get<std::uint64_t>("the byte count of " + label);
        if (bytes != numel * element_size(dtype))
            fail("is corrupt: " + label + " of shape " + shape_str(sizes) + " claims " + std::to_string(bytes) + " bytes");
        if (bytes > left_)
            fail("is truncated: " + label + " of shape " + shape_str(sizes) + " needs " + std::to_string(bytes) +
                 " bytes of data and the file has " + std::to_string(left_) + " left");
        e.value = make_empty(sizes, dtype);
        read_bytes(e.value.data_ptr(), bytes, "the data of " + label);
        if (checksummed_) {
            const std::uint32_t computed = crc_;
            const auto stored = get<std::uint32_t>("the checksum of " + label);
            if (stored != computed)
                fail("is damaged: the checksum of " + where + " (" + label + ") does not match its bytes (stored " +
                     hex(stored) + ", computed " + hex(computed) + ")");
        }
        // After the checksum: a damaged byte is reported as damage; a checksummed (or version-1)
        // file whose bools are not 0 or 1 was not written by save, and a ctgrad bool holds 0 or 1.
        if (dtype == kBool) {
            const auto* p = static_cast<const unsigned char*>(e.value.data_ptr());
            for (std::uint64_t i = 0; i < bytes; ++i)
                if (p[i] > 1) fail("is corrupt: the bool tensor " + label + " holds the byte " + std::to_string(p[i]) + ", not 0 or 1");
        }
        return e;
    }

    static std::string hex(std::uint32_t v) {
        char text[11];
        std::snprintf(text, sizeof text, "0x%08x", v);
        return text;
    }

    std::string path_;
    std::ifstream in_;
    std::uint64_t left_ = 0;  // bytes of the file not yet read
    std::uint32_t crc_ = 0;   // CRC-32 of the current entry's bytes so far
    bool checksummed_ = true;
};

}  // namespace detail::archive

// --- tensors -----------------------------------------------------------------------------------
CTGRAD_API void save(const Tensor& tensor, const std::string& path) {
    if (!tensor.defined()) throw Error("ctgrad::save: the tensor is undefined (nothing to write to '" + path + "')");
    detail::archive::write_file(path, {{detail::archive::kind::tensor, "0", tensor.detach()}});
}
CTGRAD_API void save(const std::vector<Tensor>& tensors, const std::string& path) {
    std::vector<detail::archive::entry> entries;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (!tensors[i].defined())
            throw Error("ctgrad::save: tensor " + std::to_string(i) + " is undefined (nothing written to '" + path + "')");
        entries.push_back({detail::archive::kind::tensor, std::to_string(i), tensors[i].detach()});
    }
    detail::archive::write_file(path, entries);
}
CTGRAD_API void load(Tensor& tensor, const std::string& path) {
    detail::archive::reader r(path);
    auto entries = r.read_all();
    if (entries.size() != 1 || entries[0].what != detail::archive::kind::tensor)
        r.fail("holds " + std::to_string(entries.size()) + " entries, not one tensor");
    tensor = entries[0].value;
}
CTGRAD_API void load(std::vector<Tensor>& tensors, const std::string& path) {
    detail::archive::reader r(path);
    auto entries = r.read_all();
    std::vector<Tensor> out;
    for (auto& e : entries) {
        if (e.what == detail::archive::kind::optimizer)
            r.fail("holds an optimizer's state ('" + e.name + "'), not a list of tensors");
        if (e.what != detail::archive::kind::tensor)
            r.fail("holds the module " + std::string(detail::archive::kind_name(e.what)) + " '" + e.name +
                   "', not a list of tensors");
        out.push_back(e.value);
    }
    tensors = std::move(out);
}

// --- modules -----------------------------------------------------------------------------------
CTGRAD_API void save(const nn::Module& module, const std::string& path) {
    std::vector<detail::archive::entry> entries;
    for (const auto& p : module.named_parameters()) entries.push_back({detail::archive::kind::parameter, p.key(), p.value().detach()});
    for (const auto& b : module.named_buffers()) entries.push_back({detail::archive::kind::buffer, b.key(), b.value().detach()});
    detail::archive::write_file(path, entries);
}
CTGRAD_API void load(nn::Module& module, const std::string& path) {
    using detail::archive::kind;
    detail::archive::reader r(path);
    const auto entries = r.read_all();
    const auto params = module.named_parameters(), buffers = module.named_buffers();
    std::vector<std::pair<Tensor, Tensor>> plan;  // (destination, loaded)
    OrderedDict<std::string, bool> seen;
    for (const auto& e : entries) {
        if (e.what == kind::tensor) r.fail("holds a plain tensor '" + e.name + "', not a module's parameters");
        if (e.what == kind::optimizer) r.fail("holds an optimizer's state ('" + e.name + "'), not a module's parameters");
        const auto& table = e.what == kind::parameter ? params : buffers;
        const char* what = detail::archive::kind_name(e.what);
        const Tensor* dest = table.find(e.name);
        if (!dest) r.fail("has a " + std::string(what) + " '" + e.name + "' that the module " + module.name() + " does not have");
        if (seen.contains(std::string(what) + ":" + e.name)) r.fail("has the " + std::string(what) + " '" + e.name + "' twice");
        seen.insert(std::string(what) + ":" + e.name, true);
        if (dest->scalar_type() != e.value.scalar_type())
            r.fail("has " + std::string(what) + " '" + e.name + "' of dtype " + dtype_name(e.value.scalar_type()) +
                   " but the module's is " + dtype_name(dest->scalar_type()));
        if (dest->sizes() != e.value.sizes())
            r.fail("has " + std::string(what) + " '" + e.name + "' of shape " + shape_str(e.value.sizes()) +
                   " but the module's is " + shape_str(dest->sizes()));
        plan.emplace_back(*dest, e.value);
    }
    for (const auto& p : params)
        if (!seen.contains("parameter:" + p.key())) r.fail("lacks the parameter '" + p.key() + "' of the module " + module.name());
    for (const auto& b : buffers)
        if (!seen.contains("buffer:" + b.key())) r.fail("lacks the buffer '" + b.key() + "' of the module " + module.name());
    NoGradGuard no_grad;
    for (auto& [dest, value] : plan) const_cast<Tensor&>(dest).copy_(value);
}

// --- optimizers --------------------------------------------------------------------------------
namespace detail {

// Reads and writes an optimizer's groups and state through its options' and states' visit()
// (the friend of Optimizer that reaches name(), check_options() and make_state()).
struct optimizer_archive {
    using kind = archive::kind;

    static std::string header(const optim::Optimizer& o) { return "optimizer:" + o.name(); }

    static void save(const optim::Optimizer& opt, const std::string& path) {
        if (!opt.make_state())
            throw Error("ctgrad::save: the state of the " + opt.name() + " optimizer can't be saved (nothing written to '" +
                        path + "')");
        struct Writer : optim::OptionVisitor, optim::StateVisitor {
            std::vector<archive::entry>* out;
            std::string prefix;
            void add(const char* name, Tensor value) { out->push_back({kind::optimizer, prefix + name, std::move(value)}); }
            void number(const char* name, double& v) override { add(name, scalar_tensor(v, TensorOptions().dtype(kDouble))); }
            void flag(const char* name, bool& v) override { add(name, scalar_tensor(v ? 1.0 : 0.0, TensorOptions().dtype(kDouble))); }
            void count(const char* name, std::int64_t& v) override { add(name, scalar_tensor(v, TensorOptions().dtype(kLong))); }
            void buffer(const char* name, Tensor& v) override {
                if (v.defined()) add(name, v.detach());
            }
        } w;
        std::vector<archive::entry> entries;
        w.out = &entries;
        std::vector<std::int64_t> sizes;
        for (const auto& g : opt.param_groups()) sizes.push_back(static_cast<std::int64_t>(g.params().size()));
        Tensor counts = empty({static_cast<std::int64_t>(sizes.size())}, TensorOptions().dtype(kLong));
        for (std::size_t g = 0; g < sizes.size(); ++g) counts.data_ptr<std::int64_t>()[g] = sizes[g];
        entries.push_back({kind::optimizer, header(opt), counts});
        std::size_t j = 0;
        for (std::size_t g = 0; g < opt.param_groups().size(); ++g) {
            w.prefix = "group." + std::to_string(g) + ".";
            opt.param_groups()[g].options().clone()->visit(w);  // visit() is non-const: a copy
        }
        for (const auto& g : opt.param_groups())
            for (const auto& p : g.params()) {
                const auto found = opt.state().find(p.unsafeGetTensorImpl());
                if (found != opt.state().end() && found->second) {
                    w.prefix = "state." + std::to_string(j) + ".";
                    found->second->clone()->visit(w);
                }
                ++j;
            }
        archive::write_file(path, entries);
    }

    static void load(optim::Optimizer& opt, const std::string& path) {
        if (!opt.make_state())
            throw Error("ctgrad::load: the state of the " + opt.name() + " optimizer can't be loaded (from '" + path + "')");
        archive::reader r(path);
        std::vector<archive::entry> entries = r.read_all();
        if (entries.empty() || entries[0].what != kind::optimizer || entries[0].name.rfind("optimizer:", 0) != 0)
            r.fail("does not hold an optimizer's state (its first entry is not \"optimizer:<name>\")");
        if (entries[0].name != header(opt))
            r.fail("holds the state of a " + entries[0].name.substr(10) + " optimizer, not of a " + opt.name() + " one");
        std::map<std::string, Tensor> table;  // the entries after the header, by name
        for (std::size_t i = 1; i < entries.size(); ++i) {
            const auto& e = entries[i];
            if (e.what != kind::optimizer)
                r.fail("holds the " + std::string(archive::kind_name(e.what)) + " '" + e.name + "' beside an optimizer's state");
            if (!table.emplace(e.name, e.value).second) r.fail("has the entry '" + e.name + "' twice");
        }
        const auto& groups = opt.param_groups();
        const Tensor& counts = entries[0].value;
        std::string ours = "[";
        for (std::size_t g = 0; g < groups.size(); ++g) ours += (g ? ", " : "") + std::to_string(groups[g].params().size());
        ours += "]";
        if (counts.scalar_type() != kLong || counts.dim() != 1)
            r.fail("is corrupt: its param group sizes are not a 1-d int64 tensor");
        bool same = counts.size(0) == static_cast<std::int64_t>(groups.size());
        for (std::size_t g = 0; same && g < groups.size(); ++g)
            same = counts.data_ptr<std::int64_t>()[g] == static_cast<std::int64_t>(groups[g].params().size());
        if (!same) {
            std::string theirs = "[";
            for (std::int64_t g = 0; g < counts.size(0); ++g)
                theirs += (g ? ", " : "") + std::to_string(counts.data_ptr<std::int64_t>()[g]);
            theirs += "]";
            r.fail("has param groups of sizes " + theirs + "; the optimizer's are " + ours);
        }
        std::set<std::string> used;
        // Takes the entry `name`: a scalar of `dtype` (a 0-dim tensor), or nullptr when missing.
        const auto take = [&](const std::string& name) -> const Tensor* {
            const auto found = table.find(name);
            if (found == table.end()) return nullptr;
            used.insert(name);
            return &found->second;
        };
        const auto scalar = [&](const std::string& name, ScalarType dtype) -> const Tensor& {
            const Tensor* t = take(name);
            if (!t) r.fail("lacks the entry '" + name + "'");
            if (t->dim() != 0 || t->scalar_type() != dtype)
                r.fail("has '" + name + "' of dtype " + dtype_name(t->scalar_type()) + " and shape " + shape_str(t->sizes()) +
                       ", expected a " + dtype_name(dtype) + " scalar");
            return *t;
        };

        struct OptionReader : optim::OptionVisitor {
            std::function<const Tensor&(const std::string&)> get;
            std::function<void(const std::string&)> fail;
            std::string prefix;
            void number(const char* name, double& v) override { v = get(prefix + name).item<double>(); }
            void flag(const char* name, bool& v) override {
                const double x = get(prefix + name).item<double>();
                if (x != 0 && x != 1) fail("has the flag '" + prefix + name + "' = " + std::to_string(x) + ", not 0 or 1");
                v = x == 1;
            }
        } options_reader;
        options_reader.get = [&](const std::string& name) -> const Tensor& { return scalar(name, kDouble); };
        options_reader.fail = [&](const std::string& what) { r.fail(what); };
        std::vector<std::unique_ptr<optim::OptimizerOptions>> new_options;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            auto o = groups[g].options().clone();
            options_reader.prefix = "group." + std::to_string(g) + ".";
            o->visit(options_reader);
            try {
                opt.check_options(*o);
            } catch (const Error& e) {
                r.fail("has invalid options for param group " + std::to_string(g) + ": " + e.what());
            }
            new_options.push_back(std::move(o));
        }

        struct StateReader : optim::StateVisitor {
            std::function<const Tensor&(const std::string&)> get_count;
            std::function<const Tensor*(const std::string&)> get_buffer;
            std::function<void(const std::string&)> fail;
            std::string prefix;
            const Tensor* param = nullptr;
            void count(const char* name, std::int64_t& v) override {
                v = get_count(prefix + name).item<std::int64_t>();
                if (v < 0) fail("has the count '" + prefix + name + "' = " + std::to_string(v) + ", expected >= 0");
            }
            void buffer(const char* name, Tensor& v) override {
                const Tensor* t = get_buffer(prefix + name);
                if (!t) {
                    v = Tensor();
                    return;
                }
                if (t->scalar_type() != param->scalar_type() || !(t->sizes() == param->sizes()))
                    fail("has '" + prefix + name + "' of dtype " + dtype_name(t->scalar_type()) + " and shape " +
                         shape_str(t->sizes()) + " but its parameter has dtype " + dtype_name(param->scalar_type()) +
                         " and shape " + shape_str(param->sizes()));
                // A fresh contiguous buffer on the parameter's device (the file's copy is on the CPU).
                v = contiguous_copy_on(*t, param->device());
            }
        } state_reader;
        state_reader.get_count = [&](const std::string& name) -> const Tensor& { return scalar(name, kLong); };
        state_reader.get_buffer = take;
        state_reader.fail = [&](const std::string& what) { r.fail(what); };
        optim::Optimizer::StateMap new_state;
        std::size_t j = 0;
        for (const auto& g : groups)
            for (const auto& p : g.params()) {
                const std::string prefix = "state." + std::to_string(j++) + ".";
                const auto first = table.lower_bound(prefix);
                if (first == table.end() || first->first.compare(0, prefix.size(), prefix) != 0) continue;  // no state
                auto s = opt.make_state();
                state_reader.prefix = prefix;
                state_reader.param = &p;
                s->visit(state_reader);
                new_state.emplace(p.unsafeGetTensorImpl(), std::move(s));
            }
        for (const auto& [name, value] : table)
            if (!used.count(name)) r.fail("has an entry '" + name + "' that the " + opt.name() + " optimizer does not use");

        // Everything was read and checked: replace the options and the state.
        for (std::size_t g = 0; g < groups.size(); ++g) opt.param_groups()[g].set_options(std::move(new_options[g]));
        opt.state() = std::move(new_state);
    }
};

}  // namespace detail

CTGRAD_API void save(const optim::Optimizer& optimizer, const std::string& path) {
    detail::optimizer_archive::save(optimizer, path);
}
CTGRAD_API void load(optim::Optimizer& optimizer, const std::string& path) {
    detail::optimizer_archive::load(optimizer, path);
}
}  // namespace ctgrad
#endif  // CTGRAD_RUNTIME_DEFINITIONS

namespace ctgrad {

template <class M>
void save(const nn::ModuleHolder<M>& module, const std::string& path) {
    save(static_cast<const nn::Module&>(*module), path);
}
template <class M>
void load(nn::ModuleHolder<M>& module, const std::string& path) {
    load(static_cast<nn::Module&>(*module), path);
}
template <class M>
    requires std::is_base_of_v<nn::Module, M>
void save(const std::shared_ptr<M>& module, const std::string& path) {
    save(static_cast<const nn::Module&>(*module), path);
}
template <class M>
    requires std::is_base_of_v<nn::Module, M>
void load(const std::shared_ptr<M>& module, const std::string& path) {
    load(static_cast<nn::Module&>(*module), path);
}

}  // namespace ctgrad

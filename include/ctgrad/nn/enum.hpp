#pragma once
// Enumeration values as libtorch spells them: each is a tag type in ctgrad::enumtype and a
// constant in ctgrad (`ctgrad::kSum`, `ctgrad::kFanIn`), so options hold a std::variant of the
// values they accept and a wrong value does not compile. Reduction::Reduction is ATen's integer
// form, taken by the free loss functions (ctgrad::mse_loss(input, target, Reduction::Sum)).
#include <cstdint>
#include <string>
#include <variant>

#include "../core/reduction.hpp"

namespace ctgrad {

namespace enumtype {
#define CTGRAD_NN_ENUM(Name, Spelling)                        \
    struct Name {                                             \
        static constexpr const char* name() { return Spelling; } \
    };
CTGRAD_NN_ENUM(kNone, "kNone")
CTGRAD_NN_ENUM(kMean, "kMean")
CTGRAD_NN_ENUM(kSum, "kSum")
CTGRAD_NN_ENUM(kFanIn, "kFanIn")
CTGRAD_NN_ENUM(kFanOut, "kFanOut")
CTGRAD_NN_ENUM(kLinear, "kLinear")
CTGRAD_NN_ENUM(kConv1D, "kConv1D")
CTGRAD_NN_ENUM(kConv2D, "kConv2D")
CTGRAD_NN_ENUM(kConv3D, "kConv3D")
CTGRAD_NN_ENUM(kConvTranspose1D, "kConvTranspose1D")
CTGRAD_NN_ENUM(kConvTranspose2D, "kConvTranspose2D")
CTGRAD_NN_ENUM(kConvTranspose3D, "kConvTranspose3D")
CTGRAD_NN_ENUM(kSigmoid, "kSigmoid")
CTGRAD_NN_ENUM(kTanh, "kTanh")
CTGRAD_NN_ENUM(kReLU, "kReLU")
CTGRAD_NN_ENUM(kLeakyReLU, "kLeakyReLU")
CTGRAD_NN_ENUM(kSELU, "kSELU")
#undef CTGRAD_NN_ENUM

using reduction_t = std::variant<kNone, kMean, kSum>;

// The value's name ("kSum"), for messages and printing.
template <class Variant>
std::string get_enum_name(const Variant& v) {
    return std::visit([](auto tag) { return std::string(decltype(tag)::name()); }, v);
}
}  // namespace enumtype

inline constexpr enumtype::kNone kNone{};
inline constexpr enumtype::kMean kMean{};
inline constexpr enumtype::kSum kSum{};
inline constexpr enumtype::kFanIn kFanIn{};
inline constexpr enumtype::kFanOut kFanOut{};
inline constexpr enumtype::kLinear kLinear{};
inline constexpr enumtype::kConv1D kConv1D{};
inline constexpr enumtype::kConv2D kConv2D{};
inline constexpr enumtype::kConv3D kConv3D{};
inline constexpr enumtype::kConvTranspose1D kConvTranspose1D{};
inline constexpr enumtype::kConvTranspose2D kConvTranspose2D{};
inline constexpr enumtype::kConvTranspose3D kConvTranspose3D{};
inline constexpr enumtype::kSigmoid kSigmoid{};
inline constexpr enumtype::kTanh kTanh{};
inline constexpr enumtype::kReLU kReLU{};
inline constexpr enumtype::kLeakyReLU kLeakyReLU{};
inline constexpr enumtype::kSELU kSELU{};

namespace enumtype {
// The ATen code of a reduction option (libtorch's enumtype::reduction_get_enum).
inline std::int64_t reduction_get_enum(const reduction_t& r) {
    if (std::holds_alternative<kNone>(r)) return Reduction::None;
    if (std::holds_alternative<kMean>(r)) return Reduction::Mean;
    return Reduction::Sum;
}
}  // namespace enumtype

}  // namespace ctgrad

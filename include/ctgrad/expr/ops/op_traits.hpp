#pragma once
#include "../math.hpp"

namespace ctgrad::expr {

// How an op prints; the printer decides parentheses from it (expr/to_string.hpp).
enum class print_style { prefix, function, power, infix_sum, infix_difference, infix_product, infix_quotient };

}  // namespace ctgrad::expr

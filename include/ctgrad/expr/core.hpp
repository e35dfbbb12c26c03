#pragma once
// The static layer without any backend or container adapter: what a CUDA translation unit
// includes (together with ctgrad/backend/thrust.hpp).
#include "constant.hpp"
#include "derivative.hpp"
#include "evaluation.hpp"
#include "operators.hpp"
#include "to_string.hpp"
#include "var.hpp"

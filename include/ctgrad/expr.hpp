#pragma once
// The static layer, with its CPU backend and the standard and xtensor container adapters.
// For Thrust (OpenMP, TBB or CUDA systems) also include ctgrad/backend/thrust.hpp.
#include "adapt/std.hpp"
#include "adapt/xtensor.hpp"
#include "backend/cpu/executor.hpp"
#include "expr/core.hpp"

#pragma once
// Compile-time-checked models: static_sequential of static_linear / static_tanh / static_relu /
// static_sigmoid / static_flatten layers over static_features batches, trained through one
// fused pass of the static layer per step (see docs/static-models.md).
#include "static/checks.hpp"
#include "static/features.hpp"
#include "static/layers.hpp"
#include "static/loss.hpp"
#include "static/sequential.hpp"

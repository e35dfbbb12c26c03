#pragma once
// Everything ctgrad offers today: the static layer (ctgrad::expr).
#include "error.hpp"
#include "expr.hpp"

#pragma once
// ctgrad::data, as <torch/data.h> gives torch::data: datasets (MNIST, MapDataset and .map),
// transforms (Normalize, Stack, Lambda, ...), samplers (Sequential, Random) and data loaders
// (make_data_loader). docs/data.md. The MNIST reader, the samplers, Stack<>'s collations and
// the transforms of Example<> (Normalize<>, ...) are compiled into the library; the rest are
// templates over the program's types, in these headers.
#include "data/dataloader.hpp"
#include "data/dataloader/stateless.hpp"
#include "data/dataloader_options.hpp"
#include "data/datasets/base.hpp"
#include "data/datasets/map.hpp"
#include "data/datasets/mnist.hpp"
#include "data/example.hpp"
#include "data/iterator.hpp"
#include "data/samplers/base.hpp"
#include "data/samplers/random.hpp"
#include "data/samplers/sequential.hpp"
#include "data/transforms/base.hpp"
#include "data/transforms/collate.hpp"
#include "data/transforms/lambda.hpp"
#include "data/transforms/stack.hpp"
#include "data/transforms/tensor.hpp"

#pragma once
// Data-parallel training over MPI (torch.distributed for ctgrad): ProcessGroupMPI (allreduce,
// broadcast, barrier on CPU tensors) and DistributedDataParallel. Not part of ctgrad/ctgrad.hpp:
// it includes <mpi.h>, so a program that includes it compiles and links against MPI
// (docs/distributed.md).
#include "distributed/data_parallel.hpp"
#include "distributed/process_group.hpp"

// check(): a CUDA runtime status turned into an exception, for every part of kernel_timing
// (csrc/cuda/bench/kernel_timing.cu) that calls the runtime: the pinned and device buffers
// (host_plan.h), the Timer (device_timing.cuh), one case's run and main.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace eoi::bench {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace eoi::bench

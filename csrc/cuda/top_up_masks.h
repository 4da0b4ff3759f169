// CUDA kernel for the exact-density top-up of a batch of masks: one thread per matrix
// runs the core's sampling loop (eoi::add_free_positions), so the added positions are
// the CPU's, bit for bit. Raw device pointers, the caller's stream; the binding
// (csrc/ops_cuda.cpp) counts the entries each mask holds with a reduction first.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace eoi::gpu {

struct TopUpMasksParams {
  const int64_t* seeds;  // (count,) on the device
  const int64_t* held;   // (count,) entries each mask holds now, on the device
  int64_t count;
  int64_t total;         // rows * cols of one mask
  int64_t target_count;  // entries each mask should hold
  uint8_t* mask;         // (count, total), contiguous
};

cudaError_t launch_top_up_masks(const TopUpMasksParams& params, cudaStream_t stream);

}  // namespace eoi::gpu

// CUDA kernel that writes the bool masks of a batch of matrices from the tracker's
// support bitsets (mirror of eoi::write_support_mask). Raw device pointers, the caller's
// stream; the binding is csrc/ops_cuda.cpp.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace eoi::gpu {

struct SupportMasksParams {
  const uint64_t* support;  // (count, m, ceil(n / 64)) words on the device
  int64_t count;
  int64_t n;
  int64_t m;
  int64_t row_begin;  // rows [row_begin, row_end) of A
  int64_t row_end;
  int64_t coord_begin;  // coordinates (columns of A) [coord_begin, coord_end), w of them
  int64_t coord_end;
  bool transposed;  // mask is (count, w, k), else (count, k, w); contiguous
  uint8_t* mask;
};

cudaError_t launch_support_masks(const SupportMasksParams& params, cudaStream_t stream);

}  // namespace eoi::gpu

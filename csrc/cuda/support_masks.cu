#include <algorithm>

#include "cuda/support_masks.h"

namespace eoi::gpu {
namespace {

constexpr int kThreads = 256;

// Entry (r, c) of a mask is bit r of S_c. The grid's y index walks "lines" of the
// output (a row of A, or one coordinate of a transposed mask) and its x threads the
// contiguous side of each line, so consecutive threads write consecutive bytes.
__global__ void support_masks_kernel(const SupportMasksParams p) {
  const int64_t k = p.row_end - p.row_begin;
  const int64_t width = p.coord_end - p.coord_begin;
  const int64_t words = (p.n + 63) / 64;
  const int64_t lines_per_matrix = p.transposed ? width : k;
  const int64_t line_length = p.transposed ? k : width;
  for (int64_t line = blockIdx.y; line < p.count * lines_per_matrix; line += gridDim.y) {
    const int64_t b = line / lines_per_matrix;
    const int64_t x = line - b * lines_per_matrix;
    for (int64_t y = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; y < line_length;
         y += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t r = p.row_begin + (p.transposed ? y : x);
      const int64_t c = p.coord_begin + (p.transposed ? x : y);
      const uint64_t word = p.support[(b * p.m + c) * words + (r >> 6)];
      p.mask[line * line_length + y] = static_cast<uint8_t>((word >> (r & 63)) & 1u);
    }
  }
}

}  // namespace

cudaError_t launch_support_masks(const SupportMasksParams& params, cudaStream_t stream) {
  const int64_t k = params.row_end - params.row_begin;
  const int64_t width = params.coord_end - params.coord_begin;
  const int64_t lines = params.count * (params.transposed ? width : k);
  const int64_t line_length = params.transposed ? k : width;
  if (lines == 0 || line_length == 0) return cudaSuccess;
  const dim3 grid(static_cast<unsigned int>(std::min<int64_t>((line_length + kThreads - 1) / kThreads, 1024)),
                  static_cast<unsigned int>(std::min<int64_t>(lines, 65535)));
  support_masks_kernel<<<grid, kThreads, 0, stream>>>(params);
  return cudaGetLastError();
}

}  // namespace eoi::gpu

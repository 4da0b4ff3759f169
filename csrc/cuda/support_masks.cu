// The CUDA support-mask kernel and its launcher (support_masks.h); the per-phase work is
// in mask_tile.h, shared with the CPU emulation test (csrc/cuda/tests/test_mask_tile.cpp).
#include <algorithm>

#include "cuda/mask_tile.h"
#include "cuda/support_masks.h"

namespace eoi::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGridY = 65535;

__host__ __device__ MaskLayout mask_layout(const SupportMasksParams& p) {
  return MaskLayout{p.count, p.n, p.m, p.row_begin, p.row_end, p.coord_begin, p.coord_end, p.transposed};
}

// blockIdx.x is the row tile, so the blocks next to each other are the tiles of one run of
// coordinates over consecutive support words, which share the 32-byte sectors of the
// support (mask_tile_load, mask_tile.h). blockIdx.y strides over (matrix, coordinate tile).
__global__ void __launch_bounds__(kThreads) support_masks_kernel(const SupportMasksParams p) {
  __shared__ uint64_t staged[kMaskStagedWords];
  const MaskLayout layout = mask_layout(p);
  const int64_t coord_tiles = mask_coord_tiles(layout);
  for (int64_t y = blockIdx.y; y < p.count * coord_tiles; y += gridDim.y) {
    const int64_t matrix = y / coord_tiles;
    const MaskTile tile = mask_tile(layout, p.support, p.mask, matrix, blockIdx.x, y - matrix * coord_tiles);
    mask_tile_load(tile, staged, threadIdx.x, blockDim.x);
    __syncthreads();
    mask_tile_write(tile, staged, MaskStore{}, threadIdx.x, blockDim.x);
    __syncthreads();  // the next tile's loads overwrite `staged`
  }
}

}  // namespace

cudaError_t launch_support_masks(const SupportMasksParams& params, cudaStream_t stream) {
  const MaskLayout layout = mask_layout(params);
  const int64_t row_tiles = mask_row_tiles(layout);
  const int64_t tiles_y = params.count * mask_coord_tiles(layout);
  if (row_tiles == 0 || tiles_y == 0) return cudaSuccess;
  // row_tiles <= ceil(n / 64), far below grid.x's limit of 2^31 - 1.
  const dim3 grid(static_cast<unsigned int>(row_tiles),
                  static_cast<unsigned int>(std::min(tiles_y, kMaxGridY)));
  support_masks_kernel<<<grid, kThreads, 0, stream>>>(params);
  return cudaGetLastError();
}

}  // namespace eoi::gpu

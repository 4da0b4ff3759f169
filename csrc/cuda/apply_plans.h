// CUDA kernel that writes rows of A = [I_n | 0] G_1 ... G_R (times gain) for a batch of
// matrices in one launch (docs/levels.md, "CUDA kernels"). Raw device pointers, the caller's stream; no
// torch here (the binding is csrc/ops_cuda.cpp).
//
// A block computes a tile of rows of one matrix: it starts the rows as unit vectors,
// applies the matrix's rotations one ASAP level at a time (rotations of a level touch
// disjoint coordinates, so the block's threads apply them at once; a barrier separates
// levels) and writes the tile out. With the tile in shared memory there is one block per
// tile; with the tile in the global workspace, one block per workspace slot, each computing
// every gridDim.x-th tile in its slot. Every coordinate sees the same operations in the same
// order as sequential application, so the result is exact (rotation_tile.h). With a compact
// tiling (tiling.compact) a block per tile holds only the coordinates its rows reach, and
// skips only rotations that map zeros to zeros (compact_tile.h; docs/levels.md, "Compact
// tiles").
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/apply_tiling.h"

namespace eoi::gpu {

enum class OutputType : int32_t { kFloat64, kFloat32, kFloat16, kBFloat16 };

struct ApplyPlansParams {
  // The level-ordered schedule, on the device. Matrix b owns levels
  // matrix_levels[b] .. matrix_levels[b + 1] - 1; level l is positions
  // level_starts[l] .. level_starts[l + 1] - 1 of pairs (i, j) and cos_sin (cos, sin).
  const int64_t* matrix_levels;  // count + 1
  const int64_t* level_starts;   // levels + 1
  const int32_t* pairs;          // 2 per rotation
  const void* cos_sin;           // 2 per rotation: double for kFloat64 outputs, else float
  int64_t count;
  int64_t m;
  int64_t row_begin;  // rows [row_begin, row_end) of A, 0 <= row_begin < row_end <= n
  int64_t row_end;
  int64_t coord_begin;  // coordinates [coord_begin, coord_end) of A are written, w of them
  int64_t coord_end;
  bool transposed;  // out is (count, w, k) = gain * A^T blocks, else (count, k, w)
  double gain;
  OutputType out_type;
  void* out;  // contiguous
  ApplyTiling tiling;
  // When !tiling.in_shared: scratch for `slots` tiles of tiling.tile_bytes bytes, slots =
  // min(workspace_blocks, count * tiling.tiles), or count * tiling.tiles when workspace_blocks
  // is 0. The kernel runs one persistent block per slot, so workspace_slots(count *
  // tiling.tiles, apply_workspace_resident_blocks(...)) slots (apply_tiling.h) give up no
  // concurrency: blocks beyond those the device runs at once would only wait for a free SM.
  void* workspace;
  int64_t workspace_blocks = 0;
};

// Launches the kernel on `stream`; returns the launch's error (cudaSuccess when it was
// queued). count * tiling.tiles must fit a grid (< 2^31 blocks).
cudaError_t launch_apply_plans(const ApplyPlansParams& params, cudaStream_t stream);

// Sets *blocks to the number of blocks of the workspace kernel for `out_type` with `threads`
// threads (tiling.threads) that the current device runs at once (occupancy per SM times the
// SMs); 0 on an error, which it returns.
cudaError_t apply_workspace_resident_blocks(OutputType out_type, int32_t threads, int64_t* blocks);

}  // namespace eoi::gpu

// How the CUDA apply kernel splits its work: rows of A per block, where the block's tile
// lives, and how many threads apply each level. Plain C++ (the binding calls it on the
// host; the emulation test checks it).
//
// The heuristics are not tuned on a GPU yet: the tile takes as many rows as fit in the
// block's shared memory (at most kMaxTileRows, so the plan, which every block reads
// from L2, is read fewer times), and the block gets about one thread per (rotation of
// an average level, row of the tile).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace eoi::gpu {

constexpr int32_t kMaxTileRows = 32;
constexpr int32_t kMinThreads = 64;  // >= kMaxTileRows: tile_apply_level needs threads >= rows
constexpr int32_t kMaxThreads = 1024;

struct ApplyTiling {
  int32_t tile_rows;   // rows of A per block (the last block of a matrix may have fewer)
  int32_t pitch;       // odd stride between coordinates in the tile, >= tile_rows
  int64_t tiles;       // blocks per matrix: ceil(k / tile_rows)
  int64_t tile_bytes;  // m * pitch * value_bytes
  bool in_shared;      // the tile lives in shared memory, else in a global workspace
  int32_t threads;     // threads per block
};

inline int32_t odd_pitch(int32_t rows) { return rows | 1; }

// m: larger side; k: rows of A to compute (>= 1); value_bytes: 4 or 8 (compute type);
// max_shared_bytes: the device's opt-in shared memory per block; rotations_per_level:
// mean number of rotations in a level over the plan (R / levels, >= 0).
inline ApplyTiling choose_apply_tiling(int64_t m, int64_t k, int64_t value_bytes,
                                       int64_t max_shared_bytes, double rotations_per_level) {
  ApplyTiling t{};
  const auto most_rows = static_cast<int32_t>(std::min<int64_t>(kMaxTileRows, k));
  int32_t rows = most_rows;
  while (rows > 1 && m * odd_pitch(rows) * value_bytes > max_shared_bytes) --rows;
  t.in_shared = m * odd_pitch(rows) * value_bytes <= max_shared_bytes;
  // A row that does not fit in shared memory stays in global memory (L2): take full
  // tiles there, so one rotation's rows are a 128-byte run.
  t.tile_rows = t.in_shared ? rows : most_rows;
  t.pitch = odd_pitch(t.tile_rows);
  t.tiles = (k + t.tile_rows - 1) / t.tile_rows;
  t.tile_bytes = m * t.pitch * value_bytes;
  const double wanted = std::ceil(std::max(rotations_per_level, 1.0) * t.tile_rows / 32.0) * 32.0;
  t.threads = static_cast<int32_t>(std::clamp<double>(wanted, kMinThreads, kMaxThreads));
  return t;
}

// Workspace slots for a launch of `total_tiles` tiles (count * tiles) on a device that runs
// `resident_blocks` blocks of the workspace kernel at once (apply_plans.h,
// apply_workspace_resident_blocks). The workspace blocks are persistent, one per slot
// (apply_plans.cu): more slots than resident blocks would sit idle, fewer than the tiles
// are reused. At least 1, so a launch can proceed whatever the occupancy query says.
inline int64_t workspace_slots(int64_t total_tiles, int64_t resident_blocks) {
  return std::max<int64_t>(1, std::min(total_tiles, resident_blocks));
}

}  // namespace eoi::gpu

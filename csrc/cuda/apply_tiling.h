// How the CUDA apply kernel splits its work: rows of A per block, where the block's tile
// lives, and how many threads apply each level. Plain C++ (the binding calls it on the
// host; the emulation test checks it).
//
// The heuristics are not tuned on a GPU yet: the tile takes as many rows as fit in the
// block's shared memory (at most kMaxTileRows, so the plan, which every block reads
// from L2, is read fewer times), and the block gets about one thread per (rotation of
// an average level, row of the tile). Where all m coordinates of a row fit but not
// kMaxTileRows rows of them, a compact tile that holds only the coordinates its rows
// reach may hold more rows (compact_tile.h; docs/levels.md, "Compact tiles").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace eoi::gpu {

constexpr int32_t kMaxTileRows = 32;
constexpr int32_t kMinThreads = 64;  // >= kMaxTileRows: tile_apply_level needs threads >= rows
constexpr int32_t kMaxThreads = 1024;

struct ApplyTiling {
  int32_t tile_rows;   // rows of A per block (the last block of a matrix may have fewer)
  int32_t pitch;       // odd stride between coordinates in the tile, >= tile_rows
  int64_t tiles;       // blocks per matrix: ceil(k / tile_rows)
  int64_t tile_bytes;  // m * pitch * value_bytes; compact: the block's dynamic shared memory
  bool in_shared;      // the tile lives in shared memory, else in a global workspace
  // In shared memory as a compact tile (compact_tile.h): only the coordinates the tile's rows
  // reach, up to compact_values values (|C| * pitch of them for a tile of C coordinates).
  bool compact;
  int64_t compact_values;
  int32_t threads;  // threads per block
};

// Host and device: the compact kernel takes a sub-tile's pitch (compact_tile.h).
EOI_HOST_DEVICE inline int32_t odd_pitch(int32_t rows) { return rows | 1; }

// Bytes of a compact tile's membership bitset and rank prefixes (compact_tile.h,
// compact_storage): a 32-bit word per 32 coordinates, an int32 prefix per word and the count.
inline int64_t compact_index_bytes(int64_t m) { return (2 * ((m + 31) / 32) + 1) * 4; }

// The expected number of coordinates `rows` rows of A reach after `rotations` rotations,
// m (1 - (1 - s/m)^rows) for a per-row support s = min(m, (1 + 2/m)^rotations): a rotation
// grows the nonzero count by a factor of at most 1 + 2/m in expectation
// (csrc/core/parallel_tracker.h), and the rows' supports are taken as independent draws.
// An estimate only: a tile that overflows splits (docs/levels.md, "Compact tiles").
inline double estimated_union(int64_t m, int64_t rotations, int32_t rows) {
  const double md = static_cast<double>(m);
  const double s = std::min(md, std::exp(static_cast<double>(rotations) * std::log1p(2.0 / md)));
  return md * (1.0 - std::pow(1.0 - s / md, rows));
}

// The most rotations of a matrix of a launch (choose_apply_tiling's max_rotations), from the
// plan's offsets (count + 1 of them, on the host).
inline int64_t most_rotations(const int64_t* offsets, int64_t count) {
  int64_t most = 0;
  for (int64_t b = 0; b < count; ++b) most = std::max(most, offsets[b + 1] - offsets[b]);
  return most;
}

// m: larger side; k: rows of A to compute (>= 1); value_bytes: 4 or 8 (compute type);
// max_shared_bytes: the device's opt-in shared memory per block; rotations_per_level:
// mean number of rotations in a level over the plan (R / levels, >= 0); max_rotations: the
// largest rotation count of the launch's matrices (the compact tile's estimate).
inline ApplyTiling choose_apply_tiling(int64_t m, int64_t k, int64_t value_bytes, int64_t max_shared_bytes,
                                       double rotations_per_level, int64_t max_rotations) {
  ApplyTiling t{};
  const auto most_rows = static_cast<int32_t>(std::min<int64_t>(kMaxTileRows, k));
  int32_t rows = most_rows;
  while (rows > 1 && m * odd_pitch(rows) * value_bytes > max_shared_bytes) --rows;
  t.in_shared = m * odd_pitch(rows) * value_bytes <= max_shared_bytes;
  // A row that does not fit in shared memory stays in global memory (L2): take full
  // tiles there, so one rotation's rows are a 128-byte run.
  t.tile_rows = t.in_shared ? rows : most_rows;
  t.pitch = odd_pitch(t.tile_rows);
  t.tile_bytes = m * t.pitch * value_bytes;
  // Compact where the full tile does not fit most_rows rows in shared memory and one row's
  // worst case (all m coordinates) fits beside the index, so a split always ends; only if
  // the estimate gives it more than 1.5 times the full tile's rows: its membership pass
  // reads the pairs once more (8 bytes a rotation, where the apply pass reads 16 or 24), so
  // a compact tile reads about 1.5 times the plan bytes of a full one, and must cover more
  // rows to read less of it per row (a model, not measured; docs/levels.md, "Compact tiles").
  const int64_t compact_values = (max_shared_bytes - compact_index_bytes(m)) / value_bytes;
  if (!(t.in_shared && rows == most_rows) && compact_values >= m) {
    int32_t compact_rows = most_rows;
    while (compact_rows > 1 &&
           estimated_union(m, max_rotations, compact_rows) * odd_pitch(compact_rows) > compact_values)
      --compact_rows;
    if (2 * compact_rows > 3 * (t.in_shared ? rows : 0)) {
      t.in_shared = t.compact = true;
      t.compact_values = compact_values;
      t.tile_rows = compact_rows;
      t.pitch = odd_pitch(compact_rows);
      t.tile_bytes = compact_values * value_bytes + compact_index_bytes(m);
    }
  }
  t.tiles = (k + t.tile_rows - 1) / t.tile_rows;
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

// The compact tile of the CUDA apply kernel (apply_plans.cu; docs/levels.md, "Compact
// tiles"): a tile of rows of A that holds, in shared memory, only the coordinates C its rows
// ever reach, instead of all m of them, so more rows fit a block and the plan is read from
// L2 by fewer blocks.
//
// A block first finds C structurally (pass 1: a flag per coordinate, grown level by level as
// the symbolic tracker grows a support, csrc/core/support_tracker.h), packs it into a bitset
// and ranks it (slot of c = members below c), and if |C| * pitch values fit, applies the
// rotations whose two coordinates are both in C to the compact tile (pass 2) and writes it
// out. A rotation with a coordinate outside C is skipped: supports only grow, so such a
// rotation's coordinates are both zero on the tile's rows when it runs, and it maps zeros to
// zeros. Skipping it changes only signs of zeros, which the write's `+ 0` makes +0 as the CPU
// core writes them (csrc/core/apply_rotations.h). A tile whose C does not fit splits into
// sub-tiles of half as many rows, down to one row, whose worst case (all m coordinates) the
// host guarantees to fit (apply_tiling.h).
//
// As in rotation_tile.h, every phase is a function of (thread, threads) and the block puts
// a barrier after it; the driver compact_apply_tile is written once over a `Block` that runs
// a phase, so csrc/cuda/tests/test_compact_tile.cpp runs the kernel's own control flow on the
// CPU, thread after thread between barriers.
#pragma once

#include <cstdint>

#include "core/host_device.h"
#include "cuda/apply_tiling.h"
#include "cuda/rotation_tile.h"

namespace eoi::gpu {

EOI_HOST_DEVICE inline int32_t popcount32(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __popc(x);
#else
  return __builtin_popcount(x);
#endif
}

// The coordinates C of a tile as a bitset (bit c % 32 of words[c / 32]) with a rank index:
// prefix[w] = members in words 0 .. w - 1, and prefix[word_count] = |C|.
struct CompactSet {
  static constexpr bool kAll = false;  // a subset of the coordinates (rotation_tile.h)
  uint32_t* words;
  int32_t* prefix;
  int64_t m;

  EOI_HOST_DEVICE int64_t word_count() const { return (m + 31) / 32; }
  // The slot of c in the compact tile (members below c), or -1 when c is not in C. Valid
  // after the rank phases.
  EOI_HOST_DEVICE int32_t slot(int64_t c) const {
    const uint32_t word = words[c >> 5];
    const uint32_t bit = 1u << (c & 31);
    return (word & bit) ? prefix[c >> 5] + popcount32(word & (bit - 1u)) : -1;
  }
  EOI_HOST_DEVICE int32_t count() const { return prefix[word_count()]; }
};

// Where a block's compact tile lives in its dynamic shared memory, compact_index_bytes(m) +
// capacity values (apply_tiling.h): the values first, at the array's 16-byte alignment, then
// the bitset and the prefixes. Pass 1 keeps a 32-bit flag per coordinate (1: in C) in the
// values' space, unused until the fit check and large enough (capacity >= m values of 4 or
// 8 bytes; the launcher checks it, apply_plans.cu).
template <typename compute_t>
struct CompactStorage {
  compute_t* values;
  uint32_t* flags;  // m of them, over the values
  CompactSet set;
  int64_t capacity;  // values the tile may hold: |C| * pitch <= capacity
};

template <typename compute_t>
EOI_HOST_DEVICE inline CompactStorage<compute_t> compact_storage(unsigned char* shared, int64_t m,
                                                                 int64_t capacity) {
  auto* words = reinterpret_cast<uint32_t*>(shared + capacity * static_cast<int64_t>(sizeof(compute_t)));
  auto* prefix = reinterpret_cast<int32_t*>(words + (m + 31) / 32);
  return {reinterpret_cast<compute_t*>(shared), reinterpret_cast<uint32_t*>(shared), CompactSet{words, prefix, m},
          capacity};
}

// Pass 1, start: C = the rows' own coordinates first_row .. first_row + rows - 1 (row r of
// A starts as e_{first_row + r}).
EOI_HOST_DEVICE inline void compact_flags_init(uint32_t* flags, int64_t m, int64_t first_row, int32_t rows,
                                               int64_t thread, int64_t threads) {
  for (int64_t c = thread; c < m; c += threads) flags[c] = c >= first_row && c < first_row + rows;
}

// Pass 1, once per level: a rotation on (i, j) makes S_i = S_j = S_i | S_j, so with one of
// i, j in C both are. Threads stride over the level's rotations. A word per flag, not a bit:
// the rotations of a level touch disjoint coordinates, so no two threads of the phase touch
// one word, with no atomics (in a bitset two rotations of a level can share a word: one
// thread's plain read beside another's atomic OR, which racecheck in scripts/gpu_check.sh
// may report).
EOI_HOST_DEVICE inline void compact_flags_level(uint32_t* flags, const int32_t* __restrict__ pairs, int64_t begin,
                                                int64_t end, int64_t thread, int64_t threads) {
  for (int64_t q = begin + thread; q < end; q += threads) {
    const RotationPair ij = load_pair(pairs, q);
    const uint32_t in_i = flags[ij.i];
    if (in_i != flags[ij.j]) flags[in_i ? ij.j : ij.i] = 1u;
  }
}

// Pass 1, end: the flags packed into the bitset, a word per thread at a time.
EOI_HOST_DEVICE inline void compact_pack(const CompactSet& set, const uint32_t* flags, int64_t thread,
                                         int64_t threads) {
  for (int64_t w = thread; w < set.word_count(); w += threads) {
    const int64_t first = 32 * w;
    const int64_t bits = set.m - first < 32 ? set.m - first : 32;
    uint32_t word = 0;
    for (int64_t b = 0; b < bits; ++b) word |= flags[first + b] << b;
    set.words[w] = word;
  }
}

// The ranks, in three phases: each thread counts the members of a chunk of words into the
// prefix of the chunk's first word, one thread turns those counts into the chunks' exclusive
// prefixes (and the total), then each thread writes its chunk's word prefixes. Chunks of at
// least kRankChunkWords words keep the one-thread scan short (16 chunks at m = 16384).
constexpr int64_t kRankChunkWords = 32;

EOI_HOST_DEVICE inline int64_t rank_chunk_words(int64_t words, int64_t threads) {
  const int64_t even = (words + threads - 1) / threads;
  return even > kRankChunkWords ? even : kRankChunkWords;
}

// Words [first, last) of `thread`'s chunk (empty past the last word).
struct WordChunk {
  int64_t first, last;
};

EOI_HOST_DEVICE inline WordChunk rank_chunk(const CompactSet& set, int64_t thread, int64_t threads) {
  const int64_t words = set.word_count();
  const int64_t chunk = rank_chunk_words(words, threads);
  const int64_t first = thread * chunk < words ? thread * chunk : words;
  return {first, first + chunk < words ? first + chunk : words};
}

EOI_HOST_DEVICE inline void compact_rank_chunks(const CompactSet& set, int64_t thread, int64_t threads) {
  const WordChunk chunk = rank_chunk(set, thread, threads);
  if (chunk.first == chunk.last) return;
  int32_t members = 0;
  for (int64_t w = chunk.first; w < chunk.last; ++w) members += popcount32(set.words[w]);
  set.prefix[chunk.first] = members;
}

EOI_HOST_DEVICE inline void compact_rank_scan(const CompactSet& set, int64_t thread, int64_t threads) {
  if (thread != 0) return;
  const int64_t words = set.word_count();
  const int64_t chunk = rank_chunk_words(words, threads);
  int32_t total = 0;
  for (int64_t first = 0; first < words; first += chunk) {
    const int32_t members = set.prefix[first];
    set.prefix[first] = total;
    total += members;
  }
  set.prefix[words] = total;
}

EOI_HOST_DEVICE inline void compact_rank_prefix(const CompactSet& set, int64_t thread, int64_t threads) {
  const WordChunk chunk = rank_chunk(set, thread, threads);
  if (chunk.first == chunk.last) return;
  int32_t below = set.prefix[chunk.first];
  for (int64_t w = chunk.first; w < chunk.last; ++w) {
    set.prefix[w] = below;
    below += popcount32(set.words[w]);
  }
}

// Rows [first_row, first_row + rows) of A on their coordinates C, coordinate-major like
// RotationTile (rotation_tile.h): values[set.slot(c) * pitch + r] = A[first_row + r][c].
template <typename compute_t>
struct CompactTile {
  compute_t* values;
  CompactSet set;
  int64_t first_row;
  int32_t rows;
  int32_t pitch;
};

// Pass 2, start: zero the |C| * pitch values, then row r is e_{first_row + r}.
template <typename compute_t>
EOI_HOST_DEVICE void compact_zero(const CompactTile<compute_t>& tile, int64_t thread, int64_t threads) {
  const int64_t size = static_cast<int64_t>(tile.set.count()) * tile.pitch;
  for (int64_t e = thread; e < size; e += threads) tile.values[e] = compute_t(0);
}

template <typename compute_t>
EOI_HOST_DEVICE void compact_set_identity(const CompactTile<compute_t>& tile, int64_t thread, int64_t threads) {
  set_identity_rows(tile.values, tile.first_row, tile.rows, tile.pitch, tile.set, thread, threads);
}

// Pass 2, once per level: apply_level_to_rows (rotation_tile.h) on the compact tile: only
// the rotations whose i and j are both in C (the others map zeros to zeros, above). Needs
// threads >= tile.rows.
template <typename compute_t>
EOI_HOST_DEVICE void compact_apply_level(const CompactTile<compute_t>& tile, const int32_t* __restrict__ pairs,
                                         const compute_t* __restrict__ cos_sin, int64_t begin, int64_t end,
                                         int64_t thread, int64_t threads) {
  apply_level_to_rows(tile.values, tile.rows, tile.pitch, tile.set, pairs, cos_sin, begin, end, thread, threads);
}

// Where a tile's rows go (rotation_tile.h, tile_geometry): out points at the tile's first
// row; coordinates [coord_begin, coord_end) are written.
template <typename out_t>
struct OutputRows {
  out_t* out;
  int64_t row_stride;
  int64_t col_stride;
  int64_t coord_begin;
  int64_t coord_end;
};

// Pass 2, end: write_rows (rotation_tile.h) for the compact tile: gain * A[first_row + r][c]
// + 0 for c in C, +0 for the others.
template <typename compute_t, typename out_t>
EOI_HOST_DEVICE void compact_write(const CompactTile<compute_t>& tile, compute_t gain, const OutputRows<out_t>& o,
                                   int64_t thread, int64_t threads) {
  write_rows(tile.values, tile.rows, tile.pitch, tile.set, gain, o.out, o.row_stride, o.col_stride, o.coord_begin,
             o.coord_end, thread, threads);
}

// A level's first rotation: through the read-only path on the device, as in apply_plans.cu.
EOI_HOST_DEVICE inline int64_t load_level_start(const int64_t* __restrict__ level_starts, int64_t level) {
#if defined(__CUDA_ARCH__)
  return __ldg(level_starts + level);
#else
  return level_starts[level];
#endif
}

// The level-ordered schedule of a launch (apply_plans.h, ApplyPlansParams), one matrix's
// levels first_level .. last_level - 1.
template <typename compute_t>
struct MatrixLevels {
  const int64_t* level_starts;
  const int32_t* pairs;
  const compute_t* cos_sin;
  int64_t first_level;
  int64_t last_level;
};

// Run by the whole block, which block.run(f) stands for: it runs f(thread, threads) on every
// thread of the block and then a barrier, so every value a phase reads was written before it.
// Pass 1 and the ranks: leaves in storage.set the coordinates rows [first_row, first_row +
// rows) of the matrix reach, ranked (and garbage in the values).
template <typename compute_t, typename Block>
EOI_HOST_DEVICE void compact_find_coordinates(const Block& block, const CompactStorage<compute_t>& storage,
                                              const MatrixLevels<compute_t>& levels, int64_t first_row,
                                              int32_t rows) {
  const CompactSet& set = storage.set;
  uint32_t* flags = storage.flags;
  block.run([&](int64_t t, int64_t threads) { compact_flags_init(flags, set.m, first_row, rows, t, threads); });
  // A level starts where the previous one ends: one load of level_starts per level.
  int64_t begin = load_level_start(levels.level_starts, levels.first_level);
  for (int64_t level = levels.first_level; level < levels.last_level; ++level) {
    const int64_t end = load_level_start(levels.level_starts, level + 1);
    block.run([&](int64_t t, int64_t threads) { compact_flags_level(flags, levels.pairs, begin, end, t, threads); });
    begin = end;
  }
  block.run([&](int64_t t, int64_t threads) { compact_pack(set, flags, t, threads); });
  block.run([&](int64_t t, int64_t threads) { compact_rank_chunks(set, t, threads); });
  block.run([&](int64_t t, int64_t threads) { compact_rank_scan(set, t, threads); });
  block.run([&](int64_t t, int64_t threads) { compact_rank_prefix(set, t, threads); });
}

// Run by the whole block: rows [first_row, first_row + rows) of one matrix, as compact
// tiles, written to `out`. Starts with the whole tile and halves the sub-tile on each
// overflow (kept after a success): 1 row fits, as the host only chooses compact tiles where
// storage.capacity >= m (apply_tiling.h). Returns the number of overflows (the CPU
// emulation counts them).
template <typename compute_t, typename out_t, typename Block>
EOI_HOST_DEVICE int32_t compact_apply_tile(const Block& block, const CompactStorage<compute_t>& storage,
                                           const MatrixLevels<compute_t>& levels, int64_t first_row,
                                           int32_t rows, compute_t gain, const OutputRows<out_t>& out) {
  const CompactSet& set = storage.set;
  int32_t overflows = 0;
  int32_t part_rows = rows;
  for (int32_t done = 0; done < rows;) {
    const int32_t part = part_rows < rows - done ? part_rows : rows - done;
    const int64_t first = first_row + done;
    compact_find_coordinates(block, storage, levels, first, part);
    const CompactTile<compute_t> tile{storage.values, set, first, part, odd_pitch(part)};
    if (static_cast<int64_t>(set.count()) * tile.pitch > storage.capacity) {
      ++overflows;
      part_rows = part > 1 ? part / 2 : 1;
      continue;
    }
    block.run([&](int64_t t, int64_t threads) { compact_zero(tile, t, threads); });
    block.run([&](int64_t t, int64_t threads) { compact_set_identity(tile, t, threads); });
    int64_t begin = load_level_start(levels.level_starts, levels.first_level);
    for (int64_t level = levels.first_level; level < levels.last_level; ++level) {
      const int64_t end = load_level_start(levels.level_starts, level + 1);
      block.run([&](int64_t t, int64_t threads) {
        compact_apply_level(tile, levels.pairs, levels.cos_sin, begin, end, t, threads);
      });
      begin = end;
    }
    const OutputRows<out_t> part_out{out.out + done * out.row_stride, out.row_stride, out.col_stride,
                                     out.coord_begin, out.coord_end};
    block.run([&](int64_t t, int64_t threads) { compact_write(tile, gain, part_out, t, threads); });
    done += part;
  }
  return overflows;
}

}  // namespace eoi::gpu

// The phases of the CUDA support-mask kernel (support_masks.cu) for one tile, written as
// host/device functions of (thread, threads).
//
// Entry (r, c) of a mask is bit r of S_c (mirror of write_support_mask,
// csrc/core/support_mask.cpp). A tile is 64 rows of A (the rows of one support word) by
// up to kMaskTileCoords coordinates. Phase 1 stages the tile's words in shared memory, one
// per coordinate, so each word is read from global memory once per 64 rows instead of
// once per row; phase 2 writes the tile's bytes from them, consecutive threads on
// consecutive bytes of the output's contiguous side in both layouts. Within a phase no
// thread reads what another writes, so running the threads one after another gives the
// kernel's result: csrc/cuda/tests/test_mask_tile.cpp does that on the CPU (in several
// thread orders) and compares with write_support_mask.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/host_device.h"

namespace eoi::gpu {

constexpr int32_t kMaskTileRows = 64;  // one support word
// 128 coordinates: a row of a (count, k, w) mask gets 128-byte stores, a full cache line.
constexpr int32_t kMaskTileCoords = 128;

// Slot of coordinate t in the staged words: one padding word after every 4. In phase 2 of a
// (count, k, w) mask, lane j of a warp reads the words of coordinates 4j + i (+ a shift
// common to the warp's lanes); unpadded, lanes j and j + 4 would hit the same bank (4-way
// conflicts), padded, the 16 lanes of each 8-byte access phase hit 16 distinct bank pairs
// (checked in csrc/cuda/tests/test_mask_tile.cpp).
EOI_HOST_DEVICE constexpr int32_t mask_staged_index(int32_t t) { return t + (t >> 2); }
constexpr int32_t kMaskStagedWords = mask_staged_index(kMaskTileCoords - 1) + 1;

// A launch's masks: rows [row_begin, row_end) of A (n x m) and coordinates
// [coord_begin, coord_end) of `count` matrices, to a contiguous (count, k, w) output, or
// (count, w, k) when transposed (the fields of SupportMasksParams, csrc/cuda/support_masks.h,
// which this header cannot include: the CPU test is built without the CUDA headers).
struct MaskLayout {
  int64_t count;
  int64_t n;
  int64_t m;
  int64_t row_begin;
  int64_t row_end;
  int64_t coord_begin;
  int64_t coord_end;
  bool transposed;
};

// Tiles per matrix along the rows: the support words that rows [row_begin, row_end) meet
// (a tile never spans two words, so the first and last may be partial).
EOI_HOST_DEVICE inline int64_t mask_row_tiles(const MaskLayout& l) {
  return l.row_end > l.row_begin ? ((l.row_end - 1) >> 6) - (l.row_begin >> 6) + 1 : 0;
}

EOI_HOST_DEVICE inline int64_t mask_coord_tiles(const MaskLayout& l) {
  return (l.coord_end - l.coord_begin + kMaskTileCoords - 1) / kMaskTileCoords;
}

// One tile: rows [first_row, first_row + rows) of A, all in support word `word`, and
// `coords` coordinates from first_coord.
struct MaskTile {
  const uint64_t* support;  // the tile's word of its first coordinate; coordinate t's is support[t * words]
  int64_t words;            // support words per coordinate, ceil(n / 64)
  int32_t first_bit;        // first_row & 63
  int32_t rows;
  int32_t coords;
  bool transposed;
  uint8_t* out;        // the output byte of (first_row, first_coord)
  int64_t row_stride;  // output stride between rows of A
  int64_t col_stride;  // output stride between coordinates
};

// Tile (row_tile, coord_tile) of matrix `matrix`; row tile 0 holds row_begin.
EOI_HOST_DEVICE inline MaskTile mask_tile(const MaskLayout& l, const uint64_t* support, uint8_t* mask,
                                          int64_t matrix, int64_t row_tile, int64_t coord_tile) {
  const int64_t words = (l.n + 63) >> 6;
  const int64_t k = l.row_end - l.row_begin;
  const int64_t width = l.coord_end - l.coord_begin;
  const int64_t word = (l.row_begin >> 6) + row_tile;
  const int64_t first_row = word * kMaskTileRows > l.row_begin ? word * kMaskTileRows : l.row_begin;
  const int64_t last_row = (word + 1) * kMaskTileRows < l.row_end ? (word + 1) * kMaskTileRows : l.row_end;
  const int64_t first_coord = l.coord_begin + coord_tile * kMaskTileCoords;
  const int64_t last_coord =
      first_coord + kMaskTileCoords < l.coord_end ? first_coord + kMaskTileCoords : l.coord_end;
  MaskTile t;
  t.support = support + (matrix * l.m + first_coord) * words + word;
  t.words = words;
  t.first_bit = static_cast<int32_t>(first_row & 63);
  t.rows = static_cast<int32_t>(last_row - first_row);
  t.coords = static_cast<int32_t>(last_coord - first_coord);
  t.transposed = l.transposed;
  t.row_stride = l.transposed ? 1 : width;
  t.col_stride = l.transposed ? k : 1;
  t.out = mask + matrix * k * width + (first_row - l.row_begin) * t.row_stride +
          (first_coord - l.coord_begin) * t.col_stride;
  return t;
}

// Phase 1: staged[mask_staged_index(t)] = the tile's word of coordinate t. Consecutive
// threads read consecutive coordinates' words, which are `words` words apart: one load
// for a whole warp when n <= 64, else one 32-byte sector per word. The rest of that sector
// holds the same coordinate's next words, which the tiles of the next rows read; the
// launch puts those tiles in the neighbouring blocks (blockIdx.x, support_masks.cu), so
// the sector should still be in L2 then (not measured on a GPU). Loading several words per
// coordinate here would use the whole sector at once, but the tile would span several
// words (more shared memory, a second row index in phase 2) for what L2 should give.
EOI_HOST_DEVICE inline void mask_tile_load(const MaskTile& tile, uint64_t* staged, int64_t thread,
                                           int64_t threads) {
  for (int64_t t = thread; t < tile.coords; t += threads)
    staged[mask_staged_index(static_cast<int32_t>(t))] = tile.support[t * tile.words];
}

// The kernel's stores; csrc/cuda/tests/test_mask_tile.cpp substitutes one that also counts
// the writes to each byte.
struct MaskStore {
  EOI_HOST_DEVICE void byte(uint8_t* p, uint32_t value) const { *p = static_cast<uint8_t>(value); }
  // p is 4-byte aligned.
  EOI_HOST_DEVICE void word(uint8_t* p, uint32_t value) const {
#if defined(__CUDA_ARCH__)
    *reinterpret_cast<uint32_t*>(p) = value;
#else
    std::memcpy(p, &value, sizeof(value));  // the host's buffer is uint8_t: no aliasing cast
#endif
  }
};

// Phase 2: writes the tile. A line is the output's contiguous run within the tile: a row
// of A over the tile's coordinates, or, transposed, a coordinate over the tile's rows.
// Lines are cut at 4-byte aligned addresses into chunks, one per thread, consecutive
// threads on consecutive chunks of a line; a full chunk is one 4-byte store (byte i at
// bits 8i: little-endian, as GPUs and the hosts that build this are), the partial chunks
// at a line's ends are byte stores. The line's misalignment comes from the output
// address, so any row range, window and base address works.
template <typename Store>
EOI_HOST_DEVICE void mask_tile_write(const MaskTile& tile, const uint64_t* staged, const Store& store,
                                     int64_t thread, int64_t threads) {
  const int32_t lines = tile.transposed ? tile.coords : tile.rows;
  const int32_t length = tile.transposed ? tile.rows : tile.coords;
  const int64_t line_stride = tile.transposed ? tile.col_stride : tile.row_stride;
  // The most chunks a line of `length` bytes meets, whatever its alignment (0 to 3 bytes
  // before its first aligned address); lines that meet fewer leave their last item idle.
  const int32_t chunks = (3 + length + 3) / 4;
  // Tile-local items (below 2^13): 32-bit division is a few instructions, 64-bit a call.
  const auto step = static_cast<int32_t>(threads);
  for (auto item = static_cast<int32_t>(thread); item < lines * chunks; item += step) {
    const int32_t line = item / chunks;
    uint8_t* start = tile.out + line * line_stride;
    const auto head = static_cast<int32_t>(reinterpret_cast<uintptr_t>(start) & 3);
    const int32_t first = (item - line * chunks) * 4 - head;  // line position of the chunk's first byte
    if (first >= length) continue;
    // Transposed, the line is one coordinate: every byte comes from its word.
    const uint64_t line_word = tile.transposed ? staged[mask_staged_index(line)] >> tile.first_bit : 0;
    const auto entry = [&](int32_t pos) -> uint32_t {
      const uint64_t bits =
          tile.transposed ? line_word >> pos : staged[mask_staged_index(pos)] >> (tile.first_bit + line);
      return static_cast<uint32_t>(bits & 1u);
    };
    if (first >= 0 && first + 4 <= length) {
      store.word(start + first,
                 entry(first) | entry(first + 1) << 8 | entry(first + 2) << 16 | entry(first + 3) << 24);
    } else {
      const int32_t end = first + 4 < length ? first + 4 : length;
      for (int32_t pos = first > 0 ? first : 0; pos < end; ++pos) store.byte(start + pos, entry(pos));
    }
  }
}

}  // namespace eoi::gpu

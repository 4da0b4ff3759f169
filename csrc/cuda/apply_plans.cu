// The CUDA apply kernels and their launcher (apply_plans.h); the per-phase work is in
// rotation_tile.h and compact_tile.h, shared with the CPU emulation tests.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <mutex>

#include "cuda/apply_plans.h"
#include "cuda/compact_tile.h"
#include "cuda/rotation_tile.h"

namespace eoi::gpu {

template <>
struct OutputCast<__half> {
  __device__ static __half from(float value) { return __float2half_rn(value); }
};

template <>
struct OutputCast<__nv_bfloat16> {
  __device__ static __nv_bfloat16 from(float value) { return __float2bfloat16_rn(value); }
};

namespace {

// Run by the whole block: computes tile `index` of the launch (of matrix index / tiles,
// rotation_tile.h, tile_geometry) in `values` (m * pitch of them) and writes it out.
template <typename compute_t, typename out_t>
__device__ void apply_tile(const ApplyPlansParams& p, int64_t index, compute_t* values) {
  const TileGeometry g = tile_geometry(index, p.tiling.tiles, p.tiling.tile_rows,
                                       p.coord_end - p.coord_begin, p.row_begin, p.row_end,
                                       p.transposed);
  RotationTile<compute_t> tile;
  tile.m = p.m;
  tile.first_row = g.first_row;
  tile.rows = g.rows;
  tile.pitch = p.tiling.pitch;
  tile.values = values;

  const int64_t thread = threadIdx.x;
  const int64_t threads = blockDim.x;
  // __syncthreads also orders the workspace's global-memory accesses within the block.
  tile_zero(tile, thread, threads);
  __syncthreads();
  tile_set_identity(tile, thread, threads);
  __syncthreads();
  // The schedule is read-only during the launch: __restrict__ and __ldg let its loads take
  // the read-only path (ld.global.nc) and move past the tile's stores. A level starts where
  // the previous one ends: one load of level_starts per level (the barrier would make the
  // compiler read both bounds again).
  const int32_t* __restrict__ pairs = p.pairs;
  const auto* __restrict__ cos_sin = static_cast<const compute_t*>(p.cos_sin);
  const int64_t last_level = __ldg(p.matrix_levels + g.matrix + 1);
  int64_t level = __ldg(p.matrix_levels + g.matrix);
  for (int64_t begin = __ldg(p.level_starts + level); level < last_level; ++level) {
    const int64_t end = __ldg(p.level_starts + level + 1);
    tile_apply_level(tile, pairs, cos_sin, begin, end, thread, threads);
    begin = end;
    __syncthreads();
  }
  tile_write(tile, static_cast<compute_t>(p.gain), static_cast<out_t*>(p.out) + g.out_offset,
             g.row_stride, g.col_stride, p.coord_begin, p.coord_end, thread, threads);
}

// kInShared: the tile lives in shared memory, else in the global workspace; a template
// parameter so that the shared instantiation's tile accesses are ld.shared / st.shared
// (rotation_tile.h, tile_storage).
//
// In shared memory one block computes one tile (grid: count * tiles). In the workspace the
// blocks are persistent (issue 16, item 5): the grid is the caller's workspace slots, at
// most the blocks the device runs at once (apply_tiling.h, workspace_slots), and block s
// computes tiles s, s + gridDim.x, ... all in slot s. A grid of one block per tile needed a
// slot per tile (17.7 GB for a float32 65536^2 matrix) although only the resident blocks'
// slots are in use at any time.
template <typename compute_t, typename out_t, bool kInShared>
__global__ void __launch_bounds__(kMaxThreads) apply_plans_kernel(const ApplyPlansParams p) {
  extern __shared__ __align__(16) unsigned char shared_tile[];
  const int64_t block = blockIdx.x;
  compute_t* values = tile_storage<kInShared, compute_t>(shared_tile, p.workspace, block, p.m, p.tiling.pitch);
  if constexpr (kInShared) {
    apply_tile<compute_t, out_t>(p, block, values);
  } else {
    // count * tiles < 2^31 (apply_plans.h; the binding checks it). A 32-bit bound: the 64-bit
    // one, live across the whole tile, made ptxas spill its high word at the 64 registers a
    // thread of a 1024-thread block has (sm_90).
    const auto total_tiles = static_cast<int32_t>(p.count * p.tiling.tiles);
    for (int64_t tile = block; tile < total_tiles; tile += gridDim.x) {
      apply_tile<compute_t, out_t>(p, tile, values);
      // The next tile's zeroing writes values that other threads of the block may still be
      // reading in tile_write. The loop's bounds are the block's, so every thread gets here.
      __syncthreads();
    }
  }
}

// The compact tile (compact_tile.h; docs/levels.md, "Compact tiles"): one block per tile of
// tiling.tile_rows rows, held in shared memory on the coordinates its rows reach, split into
// sub-tiles when those do not fit tiling.compact_values values.
struct DeviceBlock {
  template <typename Phase>
  __device__ void run(const Phase& phase) const {
    phase(static_cast<int64_t>(threadIdx.x), static_cast<int64_t>(blockDim.x));
    __syncthreads();
  }
};

template <typename compute_t, typename out_t>
__global__ void __launch_bounds__(kMaxThreads) apply_plans_compact_kernel(const ApplyPlansParams p) {
  extern __shared__ __align__(16) unsigned char shared_tile[];
  const TileGeometry g = tile_geometry(blockIdx.x, p.tiling.tiles, p.tiling.tile_rows, p.coord_end - p.coord_begin,
                                       p.row_begin, p.row_end, p.transposed);
  const MatrixLevels<compute_t> levels{p.level_starts, p.pairs, static_cast<const compute_t*>(p.cos_sin),
                                       __ldg(p.matrix_levels + g.matrix), __ldg(p.matrix_levels + g.matrix + 1)};
  const OutputRows<out_t> out{static_cast<out_t*>(p.out) + g.out_offset, g.row_stride, g.col_stride,
                              p.coord_begin, p.coord_end};
  compact_apply_tile(DeviceBlock{}, compact_storage<compute_t>(shared_tile, p.m, p.tiling.compact_values),
                     levels, g.first_row, g.rows, static_cast<compute_t>(p.gain), out);
}

// Above 48 KiB of dynamic shared memory a kernel must opt in. Each shared-memory kernel
// (the shared-tile and the compact instantiations) opts in once per device, to the device's
// maximum (less its static shared memory): setting each launch's own size was a driver round
// trip per call, and raced between host threads (one thread's smaller size could fail
// another's launch; issue 16, item 4).
constexpr int kOptInDevices = 64;
constexpr size_t kDefaultSharedBytes = 48 * 1024;

template <auto kKernel>
cudaError_t opt_in_shared_memory(size_t shared_bytes) {
  if (shared_bytes <= kDefaultSharedBytes) return cudaSuccess;
  int device = 0;
  cudaError_t status = cudaGetDevice(&device);
  if (status != cudaSuccess) return status;
  const auto set_maximum = [device] {
    int optin = 0;
    cudaFuncAttributes attributes{};
    cudaError_t result = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (result == cudaSuccess) result = cudaFuncGetAttributes(&attributes, kKernel);
    if (result != cudaSuccess) return result;
    const int dynamic = optin - static_cast<int>(attributes.sharedSizeBytes);
    return cudaFuncSetAttribute(kKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, dynamic);
  };
  if (device < 0 || device >= kOptInDevices) return set_maximum();  // the same value: no race
  static std::once_flag once[kOptInDevices];
  static cudaError_t results[kOptInDevices];
  std::call_once(once[device], [&] { results[device] = set_maximum(); });
  return results[device];
}

template <typename compute_t, typename out_t>
cudaError_t launch_typed(const ApplyPlansParams& p, cudaStream_t stream) {
  const int64_t total_tiles = p.count * p.tiling.tiles;
  if (total_tiles == 0) return cudaSuccess;
  if (!schedule_aligned<compute_t>(p.pairs, p.cos_sin)) return cudaErrorMisalignedAddress;  // vector loads
  if (!p.tiling.in_shared) {
    // One persistent block per workspace slot (apply_plans.h).
    const int64_t slots =
        p.workspace_blocks > 0 ? workspace_slots(total_tiles, p.workspace_blocks) : total_tiles;
    apply_plans_kernel<compute_t, out_t, false>
        <<<static_cast<unsigned int>(slots), p.tiling.threads, 0, stream>>>(p);
    return cudaGetLastError();
  }
  const auto shared_bytes = static_cast<size_t>(p.tiling.tile_bytes);
  if (p.tiling.compact) {
    // A one-row sub-tile must fit (compact_tile.h, compact_apply_tile), or a block would split
    // forever; the layout's size must be the one the kernel computes (compact_storage).
    if (p.tiling.compact_values < p.m ||
        p.tiling.tile_bytes != p.tiling.compact_values * static_cast<int64_t>(sizeof(compute_t)) +
                                   compact_index_bytes(p.m))
      return cudaErrorInvalidValue;
    constexpr auto kernel = apply_plans_compact_kernel<compute_t, out_t>;
    const cudaError_t status = opt_in_shared_memory<kernel>(shared_bytes);
    if (status != cudaSuccess) return status;
    kernel<<<static_cast<unsigned int>(total_tiles), p.tiling.threads, shared_bytes, stream>>>(p);
    return cudaGetLastError();
  }
  constexpr auto kernel = apply_plans_kernel<compute_t, out_t, true>;
  const cudaError_t status = opt_in_shared_memory<kernel>(shared_bytes);
  if (status != cudaSuccess) return status;
  kernel<<<static_cast<unsigned int>(total_tiles), p.tiling.threads, shared_bytes, stream>>>(p);
  return cudaGetLastError();
}

// The workspace instantiation has no dynamic shared memory: its occupancy is set by its
// registers and `threads` (ptxas -v; docs/levels.md, "Tiling").
template <typename compute_t, typename out_t>
cudaError_t resident_typed(int32_t threads, int64_t* blocks) {
  int device = 0, sms = 0, per_sm = 0;
  cudaError_t status = cudaGetDevice(&device);
  if (status == cudaSuccess) status = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (status == cudaSuccess)
    status = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, apply_plans_kernel<compute_t, out_t, false>,
                                                           threads, 0);
  *blocks = status == cudaSuccess ? static_cast<int64_t>(per_sm) * sms : 0;
  return status;
}

// Calls f(compute_t{}, out_t{}) with the kernel's types for `out_type` (a generic lambda), or
// returns cudaErrorInvalidValue for an unknown one.
template <typename F>
cudaError_t dispatch_out_type(OutputType out_type, const F& f) {
  switch (out_type) {
    case OutputType::kFloat64:
      return f(double{}, double{});
    case OutputType::kFloat32:
      return f(float{}, float{});
    case OutputType::kFloat16:
      return f(float{}, __half{});
    case OutputType::kBFloat16:
      return f(float{}, __nv_bfloat16{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_apply_plans(const ApplyPlansParams& params, cudaStream_t stream) {
  return dispatch_out_type(params.out_type, [&](auto compute, auto out) {
    return launch_typed<decltype(compute), decltype(out)>(params, stream);
  });
}

cudaError_t apply_workspace_resident_blocks(OutputType out_type, int32_t threads, int64_t* blocks) {
  *blocks = 0;
  return dispatch_out_type(out_type, [&](auto compute, auto out) {
    return resident_typed<decltype(compute), decltype(out)>(threads, blocks);
  });
}

}  // namespace eoi::gpu

// The CUDA apply kernel and its launcher (apply_plans.h); the per-phase work is in
// rotation_tile.h, shared with the CPU emulation test.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <mutex>

#include "cuda/apply_plans.h"
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

template <typename compute_t, typename out_t>
__global__ void __launch_bounds__(kMaxThreads) apply_plans_kernel(const ApplyPlansParams p) {
  extern __shared__ __align__(16) unsigned char shared_tile[];
  const int64_t block = blockIdx.x;
  const TileGeometry g = tile_geometry(block, p.tiling.tiles, p.tiling.tile_rows,
                                       p.coord_end - p.coord_begin, p.row_begin, p.row_end,
                                       p.transposed);
  RotationTile<compute_t> tile;
  tile.m = p.m;
  tile.first_row = g.first_row;
  tile.rows = g.rows;
  tile.pitch = p.tiling.pitch;
  tile.values = p.tiling.in_shared
                    ? reinterpret_cast<compute_t*>(shared_tile)
                    : static_cast<compute_t*>(p.workspace) + block * p.m * p.tiling.pitch;

  const int64_t thread = threadIdx.x;
  const int64_t threads = blockDim.x;
  // __syncthreads also orders the workspace's global-memory accesses within the block.
  tile_zero(tile, thread, threads);
  __syncthreads();
  tile_set_identity(tile, thread, threads);
  __syncthreads();
  const auto* cos_sin = static_cast<const compute_t*>(p.cos_sin);
  for (int64_t level = p.matrix_levels[g.matrix]; level < p.matrix_levels[g.matrix + 1]; ++level) {
    tile_apply_level(tile, p.pairs, cos_sin, p.level_starts[level], p.level_starts[level + 1],
                     thread, threads);
    __syncthreads();
  }
  tile_write(tile, static_cast<compute_t>(p.gain), static_cast<out_t*>(p.out) + g.out_offset,
             g.row_stride, g.col_stride, p.coord_begin, p.coord_end, thread, threads);
}

// Above 48 KiB of dynamic shared memory a kernel must opt in. Each instantiation opts in
// once per device, to the device's maximum (less its static shared memory): setting each
// launch's own size was a driver round trip per call, and raced between host threads (one
// thread's smaller size could fail another's launch; issue 16, item 4).
constexpr int kOptInDevices = 64;
constexpr size_t kDefaultSharedBytes = 48 * 1024;

template <typename compute_t, typename out_t>
cudaError_t opt_in_shared_memory(size_t shared_bytes) {
  if (shared_bytes <= kDefaultSharedBytes) return cudaSuccess;
  int device = 0;
  cudaError_t status = cudaGetDevice(&device);
  if (status != cudaSuccess) return status;
  const auto set_maximum = [device] {
    int optin = 0;
    cudaFuncAttributes attributes{};
    cudaError_t result = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (result == cudaSuccess) result = cudaFuncGetAttributes(&attributes, apply_plans_kernel<compute_t, out_t>);
    if (result != cudaSuccess) return result;
    const int dynamic = optin - static_cast<int>(attributes.sharedSizeBytes);
    return cudaFuncSetAttribute(apply_plans_kernel<compute_t, out_t>,
                                cudaFuncAttributeMaxDynamicSharedMemorySize, dynamic);
  };
  if (device < 0 || device >= kOptInDevices) return set_maximum();  // the same value: no race
  static std::once_flag once[kOptInDevices];
  static cudaError_t results[kOptInDevices];
  std::call_once(once[device], [&] { results[device] = set_maximum(); });
  return results[device];
}

template <typename compute_t, typename out_t>
cudaError_t launch_typed(const ApplyPlansParams& p, cudaStream_t stream) {
  const int64_t blocks = p.count * p.tiling.tiles;
  if (blocks == 0) return cudaSuccess;
  const size_t shared_bytes = p.tiling.in_shared ? static_cast<size_t>(p.tiling.tile_bytes) : 0;
  const cudaError_t status = opt_in_shared_memory<compute_t, out_t>(shared_bytes);
  if (status != cudaSuccess) return status;
  apply_plans_kernel<compute_t, out_t>
      <<<static_cast<unsigned int>(blocks), p.tiling.threads, shared_bytes, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_apply_plans(const ApplyPlansParams& params, cudaStream_t stream) {
  switch (params.out_type) {
    case OutputType::kFloat64:
      return launch_typed<double, double>(params, stream);
    case OutputType::kFloat32:
      return launch_typed<float, float>(params, stream);
    case OutputType::kFloat16:
      return launch_typed<float, __half>(params, stream);
    case OutputType::kBFloat16:
      return launch_typed<float, __nv_bfloat16>(params, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace eoi::gpu

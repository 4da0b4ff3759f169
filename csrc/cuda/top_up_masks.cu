#include "core/support_mask.h"
#include "cuda/top_up_masks.h"

namespace eoi::gpu {
namespace {

constexpr int kThreads = 128;

// Sequential per matrix, like the CPU: whether a drawn position joins depends on the
// positions that joined before it. The need is at most one rotation's growth of the
// mask, so the loop is short; matrices run in parallel.
__global__ void top_up_masks_kernel(const TopUpMasksParams p) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= p.count) return;
  const int64_t need = min(p.target_count, p.total) - p.held[b];
  if (need > 0)
    add_free_positions(static_cast<uint64_t>(p.seeds[b]), p.total, need, p.mask + b * p.total);
}

}  // namespace

cudaError_t launch_top_up_masks(const TopUpMasksParams& params, cudaStream_t stream) {
  if (params.count == 0) return cudaSuccess;
  const auto blocks = static_cast<unsigned int>((params.count + kThreads - 1) / kThreads);
  top_up_masks_kernel<<<blocks, kThreads, 0, stream>>>(params);
  return cudaGetLastError();
}

}  // namespace eoi::gpu

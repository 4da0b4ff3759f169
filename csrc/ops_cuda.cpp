// The CUDA binding: CUDA implementations of the ops defined in ops.cpp, on top of the
// raw kernels in csrc/cuda. Compiled only in CUDA builds (setup.py).
//
// The plan (offsets, pairs, cos_sin, support, seeds) is built on the CPU by the tracker,
// as for every backend, so one seed gives one matrix everywhere. Here it is regrouped by
// ASAP level on the host, copied to the GPU through pinned memory on the current stream,
// and the kernels write the outputs in place. Nothing waits for the GPU.
#include <ATen/Parallel.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/library.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "checks.h"
#include "core/rotation_levels.h"
#include "cuda/apply_plans.h"
#include "cuda/apply_tiling.h"
#include "cuda/level_schedule.h"
#include "cuda/support_masks.h"
#include "cuda/top_up_masks.h"

namespace eoi_ext {
namespace {

void check_cuda_output(const at::Tensor& t, const char* name, const std::vector<int64_t>& shape) {
  TORCH_CHECK(t.is_cuda(), "eoi_ext: ", name, " must be a CUDA tensor here, got ", t.device());
  TORCH_CHECK(t.is_contiguous(), "eoi_ext: ", name, " must be contiguous");
  TORCH_CHECK(t.sizes() == at::IntArrayRef(shape), "eoi_ext: ", name, " must have shape ",
              at::IntArrayRef(shape), ", got ", t.sizes());
}

at::TensorOptions pinned(at::ScalarType dtype) {
  return at::TensorOptions().dtype(dtype).pinned_memory(true);
}

// Copies a CPU tensor to `device` on the current stream without blocking the host: the
// copy goes from pinned memory, which the caching host allocator keeps alive until the
// copy has run.
at::Tensor to_device_async(const at::Tensor& host, const at::Device& device) {
  at::Tensor source = host;
  if (!host.is_pinned()) source = at::empty(host.sizes(), pinned(host.scalar_type())).copy_(host);
  return at::empty(host.sizes(), host.options().device(device)).copy_(source, /*non_blocking=*/true);
}

// ---- apply_plans --------------------------------------------------------------------

// The plan regrouped by level (level_schedule.h), in pinned host memory.
struct HostSchedule {
  at::Tensor matrix_levels;  // (count + 1,) int64
  at::Tensor level_starts;   // (levels + 1,) int64
  at::Tensor pairs;          // (R, 2) int32, level order
  at::Tensor cos_sin;        // (R, 2) compute type, level order
};

// coords: the coordinates the rotations touch (check_plan), which the level scratch covers.
template <typename compute_t>
HostSchedule build_schedule(const at::Tensor& offsets, const at::Tensor& pairs,
                            const at::Tensor& cos_sin, int64_t coords) {
  const int64_t count = offsets.size(0) - 1;
  const int64_t rotations = pairs.size(0);
  const auto* off = offsets.data_ptr<int64_t>();
  const auto* p = pairs.data_ptr<int32_t>();
  const at::Tensor cs = cos_sin.to(at::kDouble).contiguous();
  const auto* csp = cs.data_ptr<double>();

  std::vector<int32_t> levels(rotations);
  std::vector<int32_t> depth(count);
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> last(coords);
    for (int64_t b = begin; b < end; ++b)
      depth[b] = eoi::rotation_levels(p + 2 * off[b], off[b + 1] - off[b], coords, levels.data() + off[b],
                                      last.data());
  });

  HostSchedule s;
  s.matrix_levels = at::empty({count + 1}, pinned(at::kLong));
  auto* ml = s.matrix_levels.data_ptr<int64_t>();
  ml[0] = 0;
  for (int64_t b = 0; b < count; ++b) ml[b + 1] = ml[b] + depth[b];
  s.level_starts = at::empty({ml[count] + 1}, pinned(at::kLong));
  s.pairs = at::empty({rotations, 2}, pinned(at::kInt));
  s.cos_sin = at::empty({rotations, 2}, pinned(c10::CppTypeToScalarType<compute_t>::value));
  auto* starts = s.level_starts.data_ptr<int64_t>();
  auto* sorted_pairs = s.pairs.data_ptr<int32_t>();
  auto* sorted_cs = s.cos_sin.data_ptr<compute_t>();
  at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      eoi::gpu::write_level_schedule<compute_t>(p + 2 * off[b], csp + 2 * off[b], levels.data() + off[b],
                                                off[b + 1] - off[b], depth[b], off[b], starts + ml[b],
                                                sorted_pairs + 2 * off[b], sorted_cs + 2 * off[b]);
  });
  starts[ml[count]] = rotations;
  return s;
}

template <typename compute_t>
void apply_plans_typed(const at::Tensor& offsets, const at::Tensor& pairs, const at::Tensor& cos_sin,
                       int64_t m, int64_t coords, int64_t row_begin, int64_t row_end, int64_t coord_begin,
                       int64_t coord_end, bool transposed, double gain,
                       eoi::gpu::OutputType out_type, at::Tensor& out) {
  const int64_t count = offsets.size(0) - 1;
  const HostSchedule host = build_schedule<compute_t>(offsets, pairs, cos_sin, coords);
  const at::Device device = out.device();
  const at::Tensor matrix_levels = to_device_async(host.matrix_levels, device);
  const at::Tensor level_starts = to_device_async(host.level_starts, device);
  const at::Tensor sorted_pairs = to_device_async(host.pairs, device);
  const at::Tensor sorted_cos_sin = to_device_async(host.cos_sin, device);

  const int64_t levels = host.level_starts.size(0) - 1;
  const double per_level = levels > 0 ? static_cast<double>(pairs.size(0)) / static_cast<double>(levels) : 0.0;
  // The most rotations of a matrix, for the compact tile's estimate (csrc/cuda/apply_tiling.h);
  // offsets are on the host (check_plan).
  const int64_t max_rotations = eoi::gpu::most_rotations(offsets.data_ptr<int64_t>(), count);
  int max_shared = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&max_shared, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                        out.device().index()));
  eoi::gpu::ApplyTiling tiling = eoi::gpu::choose_apply_tiling(m, row_end - row_begin, sizeof(compute_t),
                                                               max_shared, per_level, max_rotations);
  TORCH_CHECK(count * tiling.tiles <= std::numeric_limits<int32_t>::max(),
              "eoi_ext: too many row tiles for one launch (count * tiles = ", count * tiling.tiles, ")");
  // A workspace slot per block the device runs at once, not per tile (issue 16, item 5): the
  // kernel's workspace blocks are persistent (csrc/cuda/apply_plans.cu).
  at::Tensor workspace;
  int64_t slots = 0;
  if (!tiling.in_shared) {
    int64_t resident = 0;
    C10_CUDA_CHECK(eoi::gpu::apply_workspace_resident_blocks(out_type, tiling.threads, &resident));
    slots = eoi::gpu::workspace_slots(count * tiling.tiles, resident);
    workspace = at::empty({slots * tiling.tile_bytes}, out.options().dtype(at::kByte));
  }

  eoi::gpu::ApplyPlansParams params{};
  params.matrix_levels = matrix_levels.data_ptr<int64_t>();
  params.level_starts = level_starts.data_ptr<int64_t>();
  params.pairs = sorted_pairs.data_ptr<int32_t>();
  params.cos_sin = sorted_cos_sin.data_ptr<compute_t>();
  params.count = count;
  params.m = m;
  params.row_begin = row_begin;
  params.row_end = row_end;
  params.coord_begin = coord_begin;
  params.coord_end = coord_end;
  params.transposed = transposed;
  params.gain = gain;
  params.out_type = out_type;
  params.out = out.data_ptr();
  params.tiling = tiling;
  params.workspace = workspace.defined() ? workspace.data_ptr() : nullptr;
  params.workspace_blocks = slots;
  C10_CUDA_CHECK(eoi::gpu::launch_apply_plans(params, c10::cuda::getCurrentCUDAStream()));
}

void apply_plans_cuda(const at::Tensor& offsets, const at::Tensor& pairs, const at::Tensor& cos_sin,
                      int64_t m, int64_t row_begin, int64_t row_end, bool transposed, double gain,
                      at::Tensor out, int64_t coord_begin, int64_t coord_end) {
  const int64_t coords = check_plan(offsets, pairs, cos_sin, m);
  check_gain(gain, out.scalar_type());
  const int64_t count = offsets.size(0) - 1;
  coord_end = coord_window_end(m, coord_begin, coord_end);
  check_cuda_output(out, "out",
                    block_shape(count, m, row_begin, row_end, coord_begin, coord_end, transposed, "m"));
  eoi::gpu::OutputType out_type;
  switch (out.scalar_type()) {
    case at::kDouble: out_type = eoi::gpu::OutputType::kFloat64; break;
    case at::kFloat: out_type = eoi::gpu::OutputType::kFloat32; break;
    case at::kHalf: out_type = eoi::gpu::OutputType::kFloat16; break;
    case at::kBFloat16: out_type = eoi::gpu::OutputType::kBFloat16; break;
    default:
      TORCH_CHECK(false, "eoi_ext: out must be float16, bfloat16, float32 or float64, got ", out.scalar_type());
  }
  if (out.numel() == 0) return;
  const c10::cuda::CUDAGuard guard(out.device());
  if (out_type == eoi::gpu::OutputType::kFloat64)
    apply_plans_typed<double>(offsets, pairs, cos_sin, m, coords, row_begin, row_end, coord_begin, coord_end,
                              transposed, gain, out_type, out);
  else
    apply_plans_typed<float>(offsets, pairs, cos_sin, m, coords, row_begin, row_end, coord_begin, coord_end,
                             transposed, gain, out_type, out);
}

// ---- support_masks ------------------------------------------------------------------

void support_masks_cuda(const at::Tensor& support, int64_t n, int64_t m, int64_t row_begin,
                        int64_t row_end, bool transposed, at::Tensor mask, int64_t coord_begin,
                        int64_t coord_end) {
  check_support(support, n, m);
  const int64_t count = support.size(0);
  coord_end = coord_window_end(m, coord_begin, coord_end);
  check_cuda_output(mask, "mask",
                    block_shape(count, n, row_begin, row_end, coord_begin, coord_end, transposed, "n"));
  TORCH_CHECK(mask.scalar_type() == at::kBool, "eoi_ext: mask must have dtype bool, got ", mask.scalar_type());
  TORCH_CHECK(support.is_cpu() || support.device() == mask.device(),
              "eoi_ext: support must be on the CPU or on mask's device (", mask.device(), "), got ",
              support.device());
  if (mask.numel() == 0) return;
  const c10::cuda::CUDAGuard guard(mask.device());
  const at::Tensor words = support.is_cpu() ? to_device_async(support, mask.device()) : support;
  eoi::gpu::SupportMasksParams params{};
  params.support = reinterpret_cast<const uint64_t*>(words.data_ptr<int64_t>());
  params.count = count;
  params.n = n;
  params.m = m;
  params.row_begin = row_begin;
  params.row_end = row_end;
  params.coord_begin = coord_begin;
  params.coord_end = coord_end;
  params.transposed = transposed;
  params.mask = reinterpret_cast<uint8_t*>(mask.data_ptr<bool>());
  C10_CUDA_CHECK(eoi::gpu::launch_support_masks(params, c10::cuda::getCurrentCUDAStream()));
}

// ---- top_up_masks -------------------------------------------------------------------

void top_up_masks_cuda(const at::Tensor& seeds, int64_t target_count, at::Tensor mask) {
  check_top_up(seeds, target_count, mask);
  check_cuda_output(mask, "mask", mask.sizes().vec());
  TORCH_CHECK(mask.scalar_type() == at::kBool, "eoi_ext: mask must have dtype bool, got ", mask.scalar_type());
  if (mask.numel() == 0) return;
  const c10::cuda::CUDAGuard guard(mask.device());
  const int64_t count = seeds.size(0);
  const int64_t total = mask.size(1) * mask.size(2);
  const at::Tensor device_seeds = to_device_async(seeds, mask.device());
  // Entries each mask holds, counted in parallel; the kernel's loop is then sequential
  // per matrix only over the positions it draws.
  const at::Tensor held = mask.view({count, total}).sum(1, /*keepdim=*/false, at::kLong);
  eoi::gpu::TopUpMasksParams params{};
  params.seeds = device_seeds.data_ptr<int64_t>();
  params.held = held.data_ptr<int64_t>();
  params.count = count;
  params.total = total;
  params.target_count = target_count;
  params.mask = reinterpret_cast<uint8_t*>(mask.data_ptr<bool>());
  C10_CUDA_CHECK(eoi::gpu::launch_top_up_masks(params, c10::cuda::getCurrentCUDAStream()));
}

// Sampling and level scheduling run on the CPU for every backend: on CUDA inputs they
// fail with the CPU op's clear message instead of "no CUDA kernel".
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> sample_plans_on_cuda(
    const at::Tensor& seeds, int64_t, int64_t, double, bool, bool) {
  check_cpu_contiguous(seeds, "seeds", at::kLong);
  TORCH_CHECK(false, "unreachable");
}

at::Tensor rotation_levels_on_cuda(const at::Tensor& offsets, const at::Tensor& pairs, int64_t m) {
  check_pairs(offsets, pairs, m);
  TORCH_CHECK(false, "unreachable");
}

}  // namespace

TORCH_LIBRARY_IMPL(eoi_ext, CUDA, m) {
  m.impl("sample_plans", &sample_plans_on_cuda);
  m.impl("rotation_levels", &rotation_levels_on_cuda);
  m.impl("apply_plans", &apply_plans_cuda);
  m.impl("support_masks", &support_masks_cuda);
  m.impl("top_up_masks", &top_up_masks_cuda);
}

}  // namespace eoi_ext

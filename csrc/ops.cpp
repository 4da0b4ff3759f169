// The torch binding: the only file that sees both torch and the torch-free core.
//
// Ops (schemas below; Python wrappers and fake kernels in eoi_ext/ops.py). A "plan"
// for `count` matrices of one shape is the concatenation of their rotation lists:
// rotations offsets[b] .. offsets[b+1] belong to matrix b. The CPU kernels run the
// core's per-matrix / per-tile functions in parallel with at::parallel_for (OpenMP), so
// torch.set_num_threads governs them.
#include <ATen/Parallel.h>
#include <torch/extension.h>
#include <torch/library.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "checks.h"
#include "core/apply_rotations.h"
#include "core/parallel_tracker.h"
#include "core/rotation_levels.h"
#include "core/support_mask.h"
#include "core/support_tracker.h"

namespace eoi_ext {
namespace {

// ---- sample_plans -------------------------------------------------------------------

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> sample_plans_cpu(
    const at::Tensor& seeds, int64_t n, int64_t m, double density, bool at_most, bool pin_memory) {
  check_cpu_contiguous(seeds, "seeds", at::kLong);
  TORCH_CHECK(seeds.dim() == 1, "eoi_ext: seeds must be 1-D (count,)");
  check_sides(n, m);
  TORCH_CHECK(density > 0.0 && density <= 1.0, "eoi_ext: density must be in (0, 1], got ", density);
  const int64_t count = seeds.size(0);
  const int64_t words = eoi::support_words(n);
  TORCH_CHECK(count <= kMaxHostBytes / 8 / (m * words), "eoi_ext: the supports of len(seeds) = ", count,
              " matrices with n = ", n, ", m = ", m, " would take more than 2^48 bytes");
  TORCH_CHECK(!pin_memory || at::globalContext().hasCUDA(),
              "eoi_ext: pin_memory=True needs a CUDA device to copy the support to, but none is available");
  const eoi::StopRule rule = at_most ? eoi::StopRule::kAtMost : eoi::StopRule::kNearest;

  at::Tensor support;
  std::vector<std::vector<int32_t>> pairs(count);
  std::vector<std::vector<double>> thetas(count);
  const auto* seed_ptr = seeds.data_ptr<int64_t>();
  with_host_memory("the supports and rotation lists", m, [&] {
    // Pinned for a GPU caller: its mask kernels then copy the bitsets straight from here
    // (csrc/ops_cuda.cpp, to_device_async) instead of staging them on every call.
    support = at::empty({count, m, words}, seeds.options().pinned_memory(pin_memory));
    auto* support_ptr = reinterpret_cast<uint64_t*>(support.data_ptr<int64_t>());
    const int64_t threads = at::get_num_threads();
    if (at::in_parallel_region() || !eoi::worth_parallel_tracking(count, threads, n, m)) {
      at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
          eoi::sample_rotations(static_cast<uint64_t>(seed_ptr[b]), n, m, density, rule, pairs[b],
                                thetas[b], support_ptr + b * m * words);
        }
      });
    } else {
      // Fewer matrices than threads: the threads share each matrix's support words
      // (core/parallel_tracker.h), with the same results.
      const eoi::ParallelTracking tracking{threads, [](int64_t tasks, const std::function<void(int64_t)>& task) {
        at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) {
          for (int64_t t = begin; t < end; ++t) task(t);
        });
      }};
      for (int64_t b = 0; b < count; ++b) {
        eoi::sample_rotations_parallel(static_cast<uint64_t>(seed_ptr[b]), n, m, density, rule, pairs[b],
                                       thetas[b], support_ptr + b * m * words, tracking);
      }
    }
  });

  at::Tensor offsets = at::empty({count + 1}, seeds.options());
  auto* off = offsets.data_ptr<int64_t>();
  off[0] = 0;
  for (int64_t b = 0; b < count; ++b) off[b + 1] = off[b] + static_cast<int64_t>(thetas[b].size());
  at::Tensor pairs_out = at::empty({off[count], 2}, seeds.options().dtype(at::kInt));
  at::Tensor theta = at::empty({off[count]}, seeds.options().dtype(at::kDouble));
  auto* p = pairs_out.data_ptr<int32_t>();
  auto* t = theta.data_ptr<double>();
  at::parallel_for(0, count, 16, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      std::copy(pairs[b].begin(), pairs[b].end(), p + 2 * off[b]);
      std::copy(thetas[b].begin(), thetas[b].end(), t + off[b]);
    }
  });
  // Vectorized cos/sin, the same torch ops as the Python fallback (and several times
  // faster than calling libm per rotation).
  return {offsets, pairs_out, at::stack({theta.cos(), theta.sin()}, 1), support};
}

// ---- rotation_levels ----------------------------------------------------------------

at::Tensor rotation_levels_cpu(const at::Tensor& offsets, const at::Tensor& pairs, int64_t m) {
  // The scratch covers the coordinates the rotations touch, not all m.
  const int64_t coords = check_pairs(offsets, pairs, m);
  const int64_t count = offsets.size(0) - 1;
  at::Tensor levels = at::empty({pairs.size(0)}, pairs.options());
  const auto* off = offsets.data_ptr<int64_t>();
  const auto* p = pairs.data_ptr<int32_t>();
  auto* lv = levels.data_ptr<int32_t>();
  with_host_memory("the level scratch", m, [&] {
    at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
      std::vector<int32_t> last(coords);
      for (int64_t b = begin; b < end; ++b) {
        eoi::rotation_levels(p + 2 * off[b], off[b + 1] - off[b], coords, lv + off[b], last.data());
      }
    });
  });
  return levels;
}

// ---- apply_plans --------------------------------------------------------------------

template <typename compute_t, typename out_t>
void apply_plans_kernel(const at::Tensor& offsets, const at::Tensor& pairs,
                        const at::Tensor& cos_sin, int64_t m, int64_t row_begin, int64_t row_end,
                        bool transposed, double gain, at::Tensor& out, int64_t coord_begin,
                        int64_t coord_end) {
  constexpr int64_t lanes = eoi::tile_lanes<compute_t>();
  const int64_t count = offsets.size(0) - 1;
  const int64_t block_rows = row_end - row_begin;
  const int64_t width = coord_end - coord_begin;
  const int64_t tiles = (block_rows + lanes - 1) / lanes;
  // out[b] is rows [row_begin, row_end), coordinates [coord_begin, coord_end) of A
  // (block_rows x width), or its transpose.
  const int64_t row_stride = transposed ? 1 : width;
  const int64_t col_stride = transposed ? block_rows : 1;
  const at::Tensor cs = cos_sin.to(c10::CppTypeToScalarType<compute_t>::value).contiguous();
  const auto* off = offsets.data_ptr<int64_t>();
  const auto* p = pairs.data_ptr<int32_t>();
  const auto* csp = cs.data_ptr<compute_t>();
  auto* o = out.data_ptr<out_t>();
  at::parallel_for(0, count * tiles, 1, [&](int64_t begin, int64_t end) {
    eoi::TileScratch<compute_t> scratch(m);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t b = item / tiles;
      const int64_t first = row_begin + (item % tiles) * lanes;
      const int64_t last = std::min(first + lanes, row_end);
      eoi::apply_rotations_tile<compute_t, out_t>(
          p + 2 * off[b], csp + 2 * off[b], off[b + 1] - off[b], m, first, last,
          static_cast<compute_t>(gain), scratch,
          o + b * block_rows * width + (first - row_begin) * row_stride, row_stride, col_stride,
          coord_begin, coord_end);
    }
  });
}

void apply_plans_cpu(const at::Tensor& offsets, const at::Tensor& pairs, const at::Tensor& cos_sin,
                     int64_t m, int64_t row_begin, int64_t row_end, bool transposed, double gain,
                     at::Tensor out, int64_t coord_begin, int64_t coord_end) {
  check_plan(offsets, pairs, cos_sin, m);
  check_gain(gain, out.scalar_type());
  const int64_t count = offsets.size(0) - 1;
  coord_end = coord_window_end(m, coord_begin, coord_end);
  const std::vector<int64_t> expected =
      block_shape(count, m, row_begin, row_end, coord_begin, coord_end, transposed, "m");
  TORCH_CHECK(out.sizes() == at::IntArrayRef(expected), "eoi_ext: out must have shape ",
              at::IntArrayRef(expected), ", got ", out.sizes());
  TORCH_CHECK(out.device().is_cpu() && out.is_contiguous(), "eoi_ext: out must be a contiguous CPU tensor");
  // The dtype is checked (in the switch below) even when there is nothing to write.
  const auto run = [&](auto compute_tag, auto out_tag) {
    using compute_t = decltype(compute_tag);
    using out_t = decltype(out_tag);
    if (out.numel() == 0) return;
    // Each thread's tile scratch holds m coordinates of tile_lanes rows.
    with_host_memory("the tile scratch", m, [&] {
      apply_plans_kernel<compute_t, out_t>(offsets, pairs, cos_sin, m, row_begin, row_end, transposed, gain,
                                           out, coord_begin, coord_end);
    });
  };
  switch (out.scalar_type()) {
    case at::kDouble:
      run(double{}, double{});
      break;
    case at::kFloat:
      run(float{}, float{});
      break;
    case at::kHalf:
      run(float{}, at::Half{});
      break;
    case at::kBFloat16:
      run(float{}, at::BFloat16{});
      break;
    default:
      TORCH_CHECK(false, "eoi_ext: out must be float16, bfloat16, float32 or float64, got ", out.scalar_type());
  }
}

// ---- support_masks ------------------------------------------------------------------

void support_masks_cpu(const at::Tensor& support, int64_t n, int64_t m, int64_t row_begin,
                       int64_t row_end, bool transposed, at::Tensor mask, int64_t coord_begin,
                       int64_t coord_end) {
  check_cpu_contiguous(support, "support", at::kLong);
  check_support(support, n, m);
  const int64_t count = support.size(0);
  coord_end = coord_window_end(m, coord_begin, coord_end);
  const std::vector<int64_t> expected =
      block_shape(count, n, row_begin, row_end, coord_begin, coord_end, transposed, "n");
  const int64_t k = row_end - row_begin;
  const int64_t width = coord_end - coord_begin;
  check_cpu_contiguous(mask, "mask", at::kBool);
  TORCH_CHECK(mask.sizes() == at::IntArrayRef(expected), "eoi_ext: mask must have shape ",
              at::IntArrayRef(expected), ", got ", mask.sizes());
  const int64_t row_stride = transposed ? 1 : width;
  const int64_t col_stride = transposed ? k : 1;
  const auto* s = reinterpret_cast<const uint64_t*>(support.data_ptr<int64_t>());
  auto* out = reinterpret_cast<uint8_t*>(mask.data_ptr<bool>());
  const int64_t words = eoi::support_words(n);
  // Work items: blocks of 64 rows (one support word) of one matrix.
  const int64_t blocks = (k + 63) / 64;
  at::parallel_for(0, count * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t b = item / blocks;
      const int64_t first = row_begin + (item % blocks) * 64;
      const int64_t last = std::min(first + 64, row_end);
      eoi::write_support_mask(s + b * m * words, n, m, first, last,
                              out + b * k * width + (first - row_begin) * row_stride, row_stride,
                              col_stride, coord_begin, coord_end);
    }
  });
}

// ---- top_up_masks -------------------------------------------------------------------

void top_up_masks_cpu(const at::Tensor& seeds, int64_t target_count, at::Tensor mask) {
  check_top_up(seeds, target_count, mask);
  check_cpu_contiguous(mask, "mask", at::kBool);
  const int64_t rows = mask.size(1);
  const int64_t cols = mask.size(2);
  const auto* sp = seeds.data_ptr<int64_t>();
  auto* out = reinterpret_cast<uint8_t*>(mask.data_ptr<bool>());
  at::parallel_for(0, seeds.size(0), 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      eoi::top_up_mask(static_cast<uint64_t>(sp[b]), rows, cols, target_count, out + b * rows * cols);
    }
  });
}

}  // namespace

TORCH_LIBRARY(eoi_ext, m) {
  m.def("sample_plans(Tensor seeds, int n, int m, float density, bool at_most, bool pin_memory=False)"
        " -> (Tensor offsets, Tensor pairs, Tensor cos_sin, Tensor support)");
  m.def("rotation_levels(Tensor offsets, Tensor pairs, int m) -> Tensor");
  // coord_begin / coord_end select a window of A's coordinates (columns); -1 means m.
  m.def("apply_plans(Tensor offsets, Tensor pairs, Tensor cos_sin, int m, int row_begin, int row_end,"
        " bool transposed, float gain, Tensor(a!) out, int coord_begin=0, int coord_end=-1) -> ()");
  m.def("support_masks(Tensor support, int n, int m, int row_begin, int row_end, bool transposed,"
        " Tensor(a!) mask, int coord_begin=0, int coord_end=-1) -> ()");
  m.def("top_up_masks(Tensor seeds, int target_count, Tensor(a!) mask) -> ()");
}

// The plan is built on the CPU whatever the output device; csrc/ops_cuda.cpp registers
// apply_plans / support_masks / top_up_masks for the CUDA key (CUDA builds only).
TORCH_LIBRARY_IMPL(eoi_ext, CPU, m) {
  m.impl("sample_plans", &sample_plans_cpu);
  m.impl("rotation_levels", &rotation_levels_cpu);
  m.impl("apply_plans", &apply_plans_cpu);
  m.impl("support_masks", &support_masks_cpu);
  m.impl("top_up_masks", &top_up_masks_cpu);
}

}  // namespace eoi_ext

// Build information, reported by eoi_ext.build_info() and `eoi info`.
PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.def("build_info", []() {
    pybind11::dict info;
    info["torch_version"] = EOI_TORCH_VERSION;
#ifdef EOI_WITH_CUDA
    info["backends"] = pybind11::make_tuple("cpu-ext", "cuda-ext");
    // Set by setup.py: the CUDA toolkit and the architectures the kernels target.
    info["cuda_version"] = EOI_CUDA_VERSION;
    info["cuda_archs"] = EOI_CUDA_ARCHS;
#else
    info["backends"] = pybind11::make_tuple("cpu-ext");
    info["cuda_version"] = pybind11::none();
    info["cuda_archs"] = "";
#endif
#ifdef _OPENMP
    info["openmp"] = true;
#else
    info["openmp"] = false;
#endif
    info["compiler"] = __VERSION__;
    return info;
  });
}

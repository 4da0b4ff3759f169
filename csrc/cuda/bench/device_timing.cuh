// Device timing for kernel_timing (csrc/cuda/bench/kernel_timing.cu): the Timer (cudaEvent
// pairs on one stream behind a spin kernel, median of the repetitions), the write kernel that
// measures the write floor, and the Device it sizes its grid for. CUDA source: nvcc only.
// The kernels are static, not inline: nvcc ignores inline on a __global__ function (warning 20050).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/bench/cuda_check.h"
#include "cuda/bench/timing_options.h"

namespace eoi::bench {

// Keeps the stream busy while the host queues the start event, the timed work and the stop
// event, so the pair brackets the work alone and not the host's launch latency (nvbench's
// "blocking kernel" does the same). ~100 us at H200 clocks.
static __global__ void spin_kernel(int64_t cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

// The write floor: `bytes` of output in 16-byte stores, grid-stride over one wave of resident
// blocks, the tail (< 16 bytes) by the first threads. What a kernel that only writes its
// output costs; the apply and mask kernels write exactly these bytes once.
static __global__ void write_kernel(uint4* out, int64_t vectors, unsigned char* tail, int64_t tail_bytes,
                                    uint32_t value) {
  const uint4 v = make_uint4(value, value, value, value);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < vectors; i += stride)
    out[i] = v;
  if (blockIdx.x == 0 && threadIdx.x < tail_bytes) tail[threadIdx.x] = static_cast<unsigned char>(value);
}

constexpr int kWriteThreads = 256;

class Timer {
 public:
  Timer(cudaStream_t stream, int warmup, int reps) : stream_(stream), warmup_(warmup), reps_(reps) {
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~Timer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Median milliseconds of `work` (which queues on the stream and returns its launch status).
  template <typename F>
  double median_ms(const char* what, const F& work) {
    for (int r = 0; r < warmup_; ++r) check(work(), what);
    check(cudaStreamSynchronize(stream_), what);
    std::vector<double> ms;
    for (int r = 0; r < reps_; ++r) {
      spin_kernel<<<1, 1, 0, stream_>>>(200000);
      check(cudaGetLastError(), "spin_kernel");
      check(cudaEventRecord(start_, stream_), "cudaEventRecord");
      check(work(), what);
      check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
      check(cudaEventSynchronize(stop_), what);
      float elapsed = 0;
      check(cudaEventElapsedTime(&elapsed, start_, stop_), "cudaEventElapsedTime");
      ms.push_back(elapsed);
    }
    return median(ms);
  }

 private:
  cudaStream_t stream_;
  int warmup_, reps_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

struct Device {
  std::string name;
  int sms = 0, max_shared = 0, write_blocks = 0;
};

inline cudaError_t launch_write(const Device& d, void* out, int64_t bytes, cudaStream_t stream) {
  const int64_t vectors = bytes / 16;
  const int64_t blocks = std::clamp<int64_t>((vectors + kWriteThreads - 1) / kWriteThreads, 1, d.write_blocks);
  write_kernel<<<static_cast<unsigned int>(blocks), kWriteThreads, 0, stream>>>(
      static_cast<uint4*>(out), vectors, static_cast<unsigned char*>(out) + vectors * 16, bytes % 16,
      0x3f800000u);  // 1.0f, as a fill_(1)
  return cudaGetLastError();
}

}  // namespace eoi::bench

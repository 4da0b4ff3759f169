// EOI_HOST_DEVICE marks the few core functions that the CUDA kernels call as well
// (the random stream and the exact-density top-up), so both backends run the same code
// and produce the same bits. Plain C++ compilers see nothing.
#pragma once

#if defined(__CUDACC__)
#define EOI_HOST_DEVICE __host__ __device__
#else
#define EOI_HOST_DEVICE
#endif

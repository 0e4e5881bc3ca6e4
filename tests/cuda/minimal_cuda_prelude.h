// Minimal stand-in for the CUDA headers, so clang can compile device code to PTX with -nocudainc -nocudalib
// (no CUDA toolkit on the CI machine). It defines exactly what DevicePrelude.Cuda and the generated kernels use.
// Math maps to NVVM builtins (PTX instructions), never to libdevice's __nv_* functions, which -nocudalib leaves out:
// the check script fails if the PTX still calls any external function.
#pragma once

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __host__ __attribute__((host))
#define __forceinline__ __inline__ __attribute__((always_inline))


struct __ak_tid {
    __declspec(property(get = get_x)) unsigned int x;
    __declspec(property(get = get_y)) unsigned int y;
    __declspec(property(get = get_z)) unsigned int z;
    static __device__ __forceinline__ unsigned int get_x() { return __nvvm_read_ptx_sreg_tid_x(); }
    static __device__ __forceinline__ unsigned int get_y() { return __nvvm_read_ptx_sreg_tid_y(); }
    static __device__ __forceinline__ unsigned int get_z() { return __nvvm_read_ptx_sreg_tid_z(); }
};
struct __ak_ctaid {
    __declspec(property(get = get_x)) unsigned int x;
    __declspec(property(get = get_y)) unsigned int y;
    __declspec(property(get = get_z)) unsigned int z;
    static __device__ __forceinline__ unsigned int get_x() { return __nvvm_read_ptx_sreg_ctaid_x(); }
    static __device__ __forceinline__ unsigned int get_y() { return __nvvm_read_ptx_sreg_ctaid_y(); }
    static __device__ __forceinline__ unsigned int get_z() { return __nvvm_read_ptx_sreg_ctaid_z(); }
};
struct __ak_ntid {
    __declspec(property(get = get_x)) unsigned int x;
    __declspec(property(get = get_y)) unsigned int y;
    __declspec(property(get = get_z)) unsigned int z;
    static __device__ __forceinline__ unsigned int get_x() { return __nvvm_read_ptx_sreg_ntid_x(); }
    static __device__ __forceinline__ unsigned int get_y() { return __nvvm_read_ptx_sreg_ntid_y(); }
    static __device__ __forceinline__ unsigned int get_z() { return __nvvm_read_ptx_sreg_ntid_z(); }
};
struct __ak_nctaid {
    __declspec(property(get = get_x)) unsigned int x;
    __declspec(property(get = get_y)) unsigned int y;
    __declspec(property(get = get_z)) unsigned int z;
    static __device__ __forceinline__ unsigned int get_x() { return __nvvm_read_ptx_sreg_nctaid_x(); }
    static __device__ __forceinline__ unsigned int get_y() { return __nvvm_read_ptx_sreg_nctaid_y(); }
    static __device__ __forceinline__ unsigned int get_z() { return __nvvm_read_ptx_sreg_nctaid_z(); }
};

// The same property-based trick clang's own __clang_cuda_builtin_vars.h uses: reading threadIdx.x emits mov %tid.x.
extern const __device__ __ak_tid threadIdx;
extern const __device__ __ak_ctaid blockIdx;
extern const __device__ __ak_ntid blockDim;
extern const __device__ __ak_nctaid gridDim;

// __syncthreads() is a clang builtin for CUDA device code (bar.sync 0); nothing to define.

// Float math used by the prelude: PTX approximations / exact min-max, as NVRTC's fast paths would produce.
static __device__ __forceinline__ float exp2f(float x) { return __nvvm_ex2_approx_f(x); }
static __device__ __forceinline__ float log2f(float x) { return __nvvm_lg2_approx_f(x); }
static __device__ __forceinline__ float fmaxf(float a, float b) { return __nvvm_fmax_f(a, b); }
static __device__ __forceinline__ float fminf(float a, float b) { return __nvvm_fmin_f(a, b); }
static __device__ __forceinline__ float fmaf(float a, float b, float c) { return __nvvm_fma_rn_f(a, b, c); }
static __device__ __forceinline__ float sqrtf(float x) { return __nvvm_sqrt_rn_f(x); }
static __device__ __forceinline__ int min(int a, int b) { return a < b ? a : b; }
static __device__ __forceinline__ int max(int a, int b) { return a > b ? a : b; }
static __device__ __forceinline__ float __int_as_float(int x) { return __builtin_bit_cast(float, x); }
static __device__ __forceinline__ int __float_as_int(float x) { return __builtin_bit_cast(int, x); }

// The graph ops' math (EXP, TANH, ERFC), built from the instructions above so no libdevice call remains. Only this
// compile check uses these stand-ins; NVRTC compiles against CUDA's own math library.
static __device__ __forceinline__ float expf(float x) { return __nvvm_ex2_approx_f(x * 1.44269504f); }
static __device__ __forceinline__ float tanhf(float x)
{
    float e = expf(-2.0f * __builtin_fabsf(x));
    float t = (1.0f - e) / (1.0f + e);
    return x < 0.0f ? -t : t;
}
static __device__ __forceinline__ float erfcf(float x)
{
    // Numerical Recipes' erfcc (fractional error < 1.2e-7), mirrored for x < 0.
    float z = __builtin_fabsf(x), t = 1.0f / (1.0f + 0.5f * z);
    float p = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f
        + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
    float r = t * expf(p);
    return x >= 0.0f ? r : 2.0f - r;
}
static __device__ __forceinline__ float __uint_as_float(unsigned int x) { return __builtin_bit_cast(float, x); }
static __device__ __forceinline__ unsigned int __float_as_uint(float x) { return __builtin_bit_cast(unsigned int, x); }
// The fp16 conversions of DevicePrelude.Cuda are inline PTX (cvt.f32.f16 / cvt.rn.f16.f32): clang compiles asm with the
// "h" (16-bit register) constraint as NVRTC does, so nothing to define for them.

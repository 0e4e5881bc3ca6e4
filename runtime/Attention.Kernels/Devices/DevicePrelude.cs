namespace Attention.Kernels;

/// <summary>
/// The per-backend macro preludes that make the generator's portable device-C kernels compile as OpenCL C or CUDA C.
/// A generated <c>DeviceSource</c> uses only these names (plus C99 and <c>#define</c>d constants):
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>KERNEL</c></term><description>marks the entry point (<c>__kernel</c> / <c>extern "C" __global__</c>).</description></item>
/// <item><term><c>GLOBAL</c></term><description>address space of kernel pointer arguments (<c>__global</c> / nothing).</description></item>
/// <item><term><c>SHARED</c></term><description>work-group memory (<c>__local</c> / <c>__shared__</c>), declared at kernel scope.</description></item>
/// <item><term><c>RESTRICT</c></term><description>no-alias pointer qualifier.</description></item>
/// <item><term><c>BARRIER()</c></term><description>work-group barrier with a local-memory fence.</description></item>
/// <item><term><c>LOCAL_ID(d)</c>, <c>GROUP_ID(d)</c>, <c>LOCAL_SIZE(d)</c>, <c>NUM_GROUPS(d)</c></term><description>as <c>int</c>, axis d = 0, 1, 2.</description></item>
/// <item><term><c>INDEX</c></term><description>a signed 64-bit integer type for element offsets.</description></item>
/// <item><term><c>EXP2</c>, <c>LOG2</c>, <c>FMAX</c>, <c>IMIN</c>, <c>IMAX</c>, <c>NEG_INF</c></term><description>float 2^x, log₂ x, float max, int min/max, −∞.</description></item>
/// <item><term><c>EXP</c>, <c>TANH</c>, <c>ERFC</c>, <c>SQRT</c></term><description>float eˣ, tanh x, erfc x, √x (the graph ops' math).</description></item>
/// <item><term><c>AK_DEVICE_FN</c></term><description>qualifies a helper function callable from kernels (<c>static inline</c> / <c>static __device__ __forceinline__</c>).</description></item>
/// <item><term><c>SHARED_PTR</c></term><description>address space of a helper's pointer parameter into <c>SHARED</c> memory (<c>__local</c> / nothing).</description></item>
/// <item><term><c>BARRIER_GLOBAL()</c></term><description>work-group barrier that also makes global-memory writes visible to the group.</description></item>
/// <item><term><c>STORAGE_F32</c>, <c>STORAGE_F16</c>, <c>STORAGE_BF16</c></term><description>the element type of a tensor pointer for fp32, fp16 and bf16 storage.</description></item>
/// <item><term><c>LOAD_x(p, i)</c>, <c>STORE_x(p, i, v)</c></term><description>element i of p as float; store float v into element i, rounded to nearest even (x = F32, F16, BF16).</description></item>
/// </list>
/// <para>fp16 on OpenCL is <c>half</c> through <c>vload_half</c>/<c>vstore_half_rte</c> (core OpenCL C, no <c>cl_khr_fp16</c>);
/// on CUDA it is <c>unsigned short</c> with the PTX conversions <c>cvt.f32.f16</c>/<c>cvt.rn.f16.f32</c> (no <c>cuda_fp16.h</c>, which
/// NVRTC may not find). bf16 is <c>unsigned short</c> on both, converted with integer bit operations that round exactly like
/// <see cref="BFloat16"/> on the host (nearest even; a NaN stays a quiet NaN with its sign and upper payload).</para>
/// <para>The backend compiles <c>prelude + "#line 1\n" + DeviceSource</c>, so compiler messages use the generated source's line numbers.</para>
/// </remarks>
public static class DevicePrelude
{
    /// <summary>The prelude for OpenCL C 1.2 and later.</summary>
    public const string OpenCl = """
        // Attention.Kernels device prelude: OpenCL C.
        #define KERNEL __kernel
        #define GLOBAL __global
        #define SHARED __local
        #define RESTRICT restrict
        #define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
        #define LOCAL_ID(d) ((int)get_local_id(d))
        #define GROUP_ID(d) ((int)get_group_id(d))
        #define LOCAL_SIZE(d) ((int)get_local_size(d))
        #define NUM_GROUPS(d) ((int)get_num_groups(d))
        #define INDEX long
        #define EXP2(x) exp2(x)
        #define LOG2(x) log2(x)
        #define FMAX(a, b) fmax(a, b)
        #define IMIN(a, b) min(a, b)
        #define IMAX(a, b) max(a, b)
        #define NEG_INF (-INFINITY)
        #define EXP(x) exp(x)
        #define TANH(x) tanh(x)
        #define ERFC(x) erfc(x)
        #define SQRT(x) sqrt(x)
        #define SHARED_PTR __local
        #define BARRIER_GLOBAL() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
        #define STORAGE_F16 half
        #define LOAD_F16(p, i) vload_half((size_t)(i), (p))
        #define STORE_F16(p, i, x) vstore_half_rte((x), (size_t)(i), (p))
        #define AK_DEVICE_FN static inline
        #define AK_U16 ushort
        #define AK_U32 uint
        #define AK_AS_UINT(x) as_uint(x)
        #define AK_AS_FLOAT(u) as_float(u)

        """ + Storage;

    /// <summary>The prelude for CUDA C++ compiled by NVRTC (entry points keep their C names for cuModuleGetFunction).</summary>
    public const string Cuda = """
        // Attention.Kernels device prelude: CUDA C++ (NVRTC).
        #define KERNEL extern "C" __global__
        #define GLOBAL
        #define SHARED __shared__
        #define RESTRICT __restrict__
        #define BARRIER() __syncthreads()
        #define LOCAL_ID(d) ((int)((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z))
        #define GROUP_ID(d) ((int)((d) == 0 ? blockIdx.x : (d) == 1 ? blockIdx.y : blockIdx.z))
        #define LOCAL_SIZE(d) ((int)((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z))
        #define NUM_GROUPS(d) ((int)((d) == 0 ? gridDim.x : (d) == 1 ? gridDim.y : gridDim.z))
        #define INDEX long long
        #define EXP2(x) exp2f(x)
        #define LOG2(x) log2f(x)
        #define FMAX(a, b) fmaxf(a, b)
        #define IMIN(a, b) min(a, b)
        #define IMAX(a, b) max(a, b)
        #define NEG_INF (-__int_as_float(0x7f800000))
        #define EXP(x) expf(x)
        #define TANH(x) tanhf(x)
        #define ERFC(x) erfcf(x)
        #define SQRT(x) sqrtf(x)
        #define SHARED_PTR
        #define BARRIER_GLOBAL() __syncthreads()
        #define STORAGE_F16 unsigned short
        #define LOAD_F16(p, i) ak_half_to_float((p)[i])
        #define STORE_F16(p, i, x) ((p)[i] = ak_float_to_half(x))
        #define AK_DEVICE_FN static __device__ __forceinline__
        #define AK_U16 unsigned short
        #define AK_U32 unsigned int
        #define AK_AS_UINT(x) __float_as_uint(x)
        #define AK_AS_FLOAT(u) __uint_as_float(u)
        // fp16 <-> fp32 with the PTX conversions (round to nearest even), so no cuda_fp16.h is needed.
        AK_DEVICE_FN float ak_half_to_float(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
        AK_DEVICE_FN unsigned short ak_float_to_half(float f) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }

        """ + Storage;

    /// <summary>
    /// The storage macros both preludes share (after each defines <c>STORAGE_F16</c>/<c>LOAD_F16</c>/<c>STORE_F16</c> and the
    /// <c>AK_*</c> helpers): fp32, and bf16 by bit operations, so the rounding is written once for every backend.
    /// </summary>
    private const string Storage = """
        // Storage types: kernels LOAD elements as float, compute in float, and STORE rounded to nearest even.
        #define STORAGE_F32 float
        #define LOAD_F32(p, i) ((p)[i])
        #define STORE_F32(p, i, x) ((p)[i] = (x))
        // bfloat16 = the upper 16 bits of a float. Same rounding as the host's BFloat16: add half an ulp minus one unless the
        // kept part is odd (ties to even; a carry bumps the exponent, past the largest finite value to infinity); NaN stays a
        // quiet NaN with its sign and upper payload, never infinity.
        #define STORAGE_BF16 AK_U16
        #define LOAD_BF16(p, i) AK_AS_FLOAT((AK_U32)(p)[i] << 16)
        #define STORE_BF16(p, i, x) ((p)[i] = ak_float_to_bf16(x))
        AK_DEVICE_FN AK_U16 ak_float_to_bf16(float x)
        {
            const AK_U32 bits = AK_AS_UINT(x);
            if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
                return (AK_U16)((bits >> 16) | 0x0040u);
            return (AK_U16)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
        }

        """;

    /// <summary>The prelude for <paramref name="kind"/> (none for the CPU backend, whose kernels are generated C#).</summary>
    public static string For(DeviceKind kind) => kind switch
    {
        DeviceKind.OpenCl => OpenCl,
        DeviceKind.Cuda => Cuda,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "The CPU backend runs generated C#, not device C."),
    };
}

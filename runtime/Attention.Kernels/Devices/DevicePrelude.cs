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
/// <item><term><c>DEVICE_FN</c></term><description>qualifies a helper function callable from kernels (<c>static inline</c> / <c>static __device__</c>).</description></item>
/// <item><term><c>SHARED_PTR</c></term><description>address space of a helper's pointer parameter into <c>SHARED</c> memory (<c>__local</c> / nothing).</description></item>
/// <item><term><c>BARRIER_GLOBAL()</c></term><description>work-group barrier that also makes global-memory writes visible to the group.</description></item>
/// </list>
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
        #define DEVICE_FN static inline
        #define SHARED_PTR __local
        #define BARRIER_GLOBAL() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)

        """;

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
        #define DEVICE_FN static __device__ __forceinline__
        #define SHARED_PTR
        #define BARRIER_GLOBAL() __syncthreads()

        """;

    /// <summary>The prelude for <paramref name="kind"/> (none for the CPU backend, whose kernels are generated C#).</summary>
    public static string For(DeviceKind kind) => kind switch
    {
        DeviceKind.OpenCl => OpenCl,
        DeviceKind.Cuda => Cuda,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "The CPU backend runs generated C#, not device C."),
    };
}

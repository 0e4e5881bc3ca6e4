using System.Reflection;
using System.Runtime.InteropServices;
using Attention.Kernels.Ilgpu;
using Attention.Kernels.Ilgpu.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Attention.Kernels.GpuRunner;

/// <summary>
/// What the driver made of an attention kernel: registers per thread, local memory (spills) per thread and static shared
/// memory per group (CUDA: <c>cuFuncGetAttribute</c>), and how many groups fit one multiprocessor (ILGPU's occupancy
/// estimate). These say whether a slow kernel is short of registers, spilling or starved of resident groups.
/// </summary>
internal static class KernelResources
{
    private const int SharedSizeBytes = 1, LocalSizeBytes = 3, NumRegisters = 4; // CUfunction_attribute

    [DllImport("libcuda.so.1")]
    private static extern int cuFuncGetAttribute(out int value, int attribute, IntPtr function);

    /// <summary>The attention kernel ILGPU compiles for <typeparamref name="TKernel"/> with fp32 storage.</summary>
    public static MethodInfo Fp32<TKernel>() where TKernel : struct, IAttentionKernel =>
        ((Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
            ArrayView<int>, ArrayView<int>, FlashAttention.MaskInputs, FlashAttention.Lengths, FlashAttention.KeySplit>)FlashAttention.Kernel<TKernel, float, Fp32Storage, FlashAttention.WholeKeys>).Method;

    /// <summary>The attention kernel ILGPU compiles for <typeparamref name="TKernel"/> with bf16 storage.</summary>
    public static MethodInfo Bf16<TKernel>() where TKernel : struct, IAttentionKernel =>
        ((Action<ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>,
            ArrayView<int>, ArrayView<int>, FlashAttention.MaskInputs, FlashAttention.Lengths, FlashAttention.KeySplit>)FlashAttention.Kernel<TKernel, ushort, Bf16Storage, FlashAttention.WholeKeys>).Method;

    /// <summary>One line: group size, groups per multiprocessor and, on CUDA, registers, local and shared bytes.</summary>
    public static string Describe(IlgpuDevice device, MethodInfo method, int headDim)
    {
        var accelerator = device.Accelerator;
        var kernel = accelerator.LoadKernel(method); // owned by the accelerator (ILGPU: not to be disposed)
        int threads = FlashAttention.GroupSize(headDim);
        int groups = accelerator.EstimateMaxActiveGroupsPerMultiprocessor(kernel, threads);
        string text = $"D={headDim}: groups of {threads} threads ({FlashAttention.BlockRows(headDim)} rows × {FlashAttention.BlockKeys(headDim)} keys a block), {groups} groups ({groups * threads} threads) per multiprocessor";
        if (kernel is CudaKernel cuda && cuda.FunctionPtr != IntPtr.Zero)
        {
            int Attribute(int attribute) => cuFuncGetAttribute(out int value, attribute, cuda.FunctionPtr) == 0 ? value : -1;
            text += $"; {Attribute(NumRegisters)} registers/thread, {Attribute(LocalSizeBytes)} B local/thread, {Attribute(SharedSizeBytes)} B shared/group";
        }
        return text;
    }
}

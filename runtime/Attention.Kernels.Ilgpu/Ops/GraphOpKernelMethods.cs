using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>
/// Every graph-op kernel entry point, for compile checks of the PTX and OpenCL C that ILGPU generates from them
/// (EntryPointDescription.FromExplicitlyGroupedKernel or FromImplicitlyGroupedKernel, as <see cref="GraphOpKernel.ExplicitlyGrouped"/> says).
/// </summary>
public static class GraphOpKernelMethods
{
    /// <summary>The kernel methods (none is generic), each with how it is launched.</summary>
    public static IEnumerable<GraphOpKernel> All() =>
    [
        Explicit(typeof(LinearKernel), nameof(LinearKernel.Run)),
        Explicit(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Map)),
        Explicit(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Positional)),
        Explicit(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Excite)),
        Explicit(typeof(ElementwiseKernels), nameof(ElementwiseKernels.LayerMix)),
        Explicit(typeof(NormKernel), nameof(NormKernel.Run)),
        Explicit(typeof(PoolingKernels), nameof(PoolingKernels.AttentionPooling)),
        Explicit(typeof(PoolingKernels), nameof(PoolingKernels.HierarchicalWords)),
        Explicit(typeof(PoolingKernels), nameof(PoolingKernels.HierarchicalSegments)),
        Explicit(typeof(SqueezeKernel), nameof(SqueezeKernel.Run)),
        Explicit(typeof(EmbeddingKernel), nameof(EmbeddingKernel.Run)),
        Explicit(typeof(MeanPoolingKernel), nameof(MeanPoolingKernel.Run)),
        Explicit(typeof(L2NormalizeKernel), nameof(L2NormalizeKernel.Run)),
    ];

    private static GraphOpKernel Explicit([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] Type type, string name) =>
        new(type.GetMethod(name, BindingFlags.Public | BindingFlags.Static) ?? throw new MissingMethodException(type.FullName, name), ExplicitlyGrouped: true);
}

/// <summary>One kernel entry point: explicitly grouped kernels are launched with a KernelConfig; implicitly grouped ones take an Index1D/2D/3D first.</summary>
public readonly record struct GraphOpKernel(MethodInfo Method, bool ExplicitlyGrouped);

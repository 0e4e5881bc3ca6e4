namespace Attention.Kernels;

/// <summary>The backends a kernel can run on.</summary>
public enum DeviceKind
{
    /// <summary>Generated C# kernels on the host CPU (SIMD + all cores): the default everywhere.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator (package Attention.Kernels.Ilgpu).</summary>
    Cuda,

    /// <summary>An OpenCL 2.0+ GPU through ILGPU's OpenCL accelerator (package Attention.Kernels.Ilgpu).</summary>
    OpenCl,

    /// <summary>
    /// ILGPU's CPU accelerator (package Attention.Kernels.Ilgpu): the accelerator kernels run on the host, one thread per
    /// work-item. A semantics target for tests and debugging, far slower than <see cref="Cpu"/>; never the default.
    /// </summary>
    IlgpuCpu,
}

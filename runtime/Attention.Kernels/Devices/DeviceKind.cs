namespace Attention.Kernels;

/// <summary>The backends a kernel can run on.</summary>
public enum DeviceKind
{
    /// <summary>Generated C# kernels on the host CPU (SIMD + all cores).</summary>
    Cpu,

    /// <summary>Generated device-C kernels through an OpenCL driver.</summary>
    OpenCl,

    /// <summary>Generated device-C kernels compiled by NVRTC for an NVIDIA GPU.</summary>
    Cuda,
}

using Attention.Kernels.Ilgpu;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// The ILGPU device the accelerator tests run on: ILGPU's CPU accelerator, which executes the same kernels a GPU gets
/// (one thread per work-item, real barriers and shared memory, warps of 32). Always available, so these tests never skip.
/// </summary>
public static class IlgpuTestDevice
{
    private static readonly Lazy<IlgpuDevice> s_device = new(() => IlgpuDevice.Create(DeviceKind.IlgpuCpu));

    /// <summary>One device for the whole run: ILGPU compiles each kernel once per accelerator.</summary>
    public static IlgpuDevice Instance => s_device.Value;

    /// <summary>Longest sequence the random problems draw on the CPU accelerator (~700x slower than the CPU backend).</summary>
    public const int MaxLength = 100;
}

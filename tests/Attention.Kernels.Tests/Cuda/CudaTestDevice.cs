using Xunit;
using Attention.Kernels.Cuda;

namespace Attention.Kernels.Tests.Cuda;

/// <summary>The CUDA device the tests use, or the reason they skip (no driver, no GPU, no NVRTC).</summary>
internal static class CudaTestDevice
{
    public const string NoDriver = "no CUDA driver (libcuda.so.1) on this machine";

    private static readonly Lazy<(CudaDevice? Device, string? Reason)> s_device = new(() =>
    {
        try
        {
            return (CudaDevice.Create(), null);
        }
        catch (DeviceUnavailableException e) when (!CudaRuntime.DriverLoaded)
        {
            return (null, $"{NoDriver}: {e.Message}");
        }
        catch (DeviceUnavailableException e)
        {
            return (null, $"no usable CUDA device: {e.Message}");
        }
    });

    /// <summary>The shared device; skips the calling test when there is none.</summary>
    public static CudaDevice Require()
    {
        var (device, reason) = s_device.Value;
        Skip.If(device is null, reason);
        return device!;
    }

    /// <summary>The shared device with NVRTC loaded; skips when either is missing.</summary>
    public static CudaDevice RequireCompiler()
    {
        var device = Require();
        try
        {
            CudaRuntime.EnsureNvrtc();
        }
        catch (DeviceUnavailableException e)
        {
            Skip.If(true, $"no NVRTC on this machine: {e.Message}");
        }
        return device;
    }
}

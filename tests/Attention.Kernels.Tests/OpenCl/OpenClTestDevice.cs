using Xunit;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>
/// The one rule for OpenCL tests: use the machine's OpenCL device, or skip with the reason when there is no driver —
/// unless <see cref="RequireVariable"/>=1 (CI with PoCL installed), where a missing driver is a failure.
/// </summary>
public static class OpenClTestDevice
{
    /// <summary>Set to 1 where an OpenCL driver must be present (CI): then OpenCL tests fail instead of skipping.</summary>
    public const string RequireVariable = "AK_REQUIRE_OPENCL";

    private static readonly Lazy<(OpenClDevice? Device, Exception? Error)> s_device = new(() =>
    {
        try
        {
            // ATTENTION_KERNELS_OPENCL_DEVICE picks the device, as it does for users; otherwise GPU first, then CPU (PoCL).
            return (OpenClDevice.Create(), null);
        }
        catch (DeviceUnavailableException e)
        {
            return (null, e);
        }
    });

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The shared OpenCL device of the test run (never disposed: compiled kernels stay cached across tests).</summary>
    public static OpenClDevice GetOrSkip()
    {
        var (device, error) = s_device.Value;
        if (device is not null)
            return device;
        if (Required)
            throw new InvalidOperationException($"{RequireVariable}=1 but no OpenCL device is available: {error!.Message}", error);
        Skip.If(true, $"No OpenCL driver on this machine ({error!.Message}). Set {RequireVariable}=1 to make this a failure.");
        throw new InvalidOperationException("unreachable");
    }
}

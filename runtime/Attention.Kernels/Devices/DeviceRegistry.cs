namespace Attention.Kernels;

/// <summary>Chooses the default device. Backends register a factory that returns null when unavailable.</summary>
public static class DeviceRegistry
{
    /// <summary>Preference of the built-in OpenCL backend (only a GPU or accelerator OpenCL device becomes the default).</summary>
    public const int OpenClPreference = 10;

    /// <summary>Preference of the built-in CUDA backend: a working CUDA GPU (driver + NVRTC) wins the default.</summary>
    public const int CudaPreference = 20;

    private static readonly List<(DeviceKind Kind, int Preference, Func<Device?> TryCreate)> s_backends = [];

    static DeviceRegistry()
    {
        // Built-in backends. Their native libraries load only when a factory runs.
        Register(DeviceKind.Cuda, CudaPreference, CudaDevice.CreateForRegistry);
        Register(DeviceKind.OpenCl, OpenClPreference, OpenClDevice.CreateForRegistry);
    }

    /// <summary>Adds a backend; higher <paramref name="preference"/> wins when several are available.</summary>
    public static void Register(DeviceKind kind, int preference, Func<Device?> tryCreate)
    {
        lock (s_backends)
            s_backends.Add((kind, preference, tryCreate));
    }

    /// <summary>Creates the device of <paramref name="kind"/>, with a clear error when it is unavailable.</summary>
    public static Device Create(DeviceKind kind)
    {
        if (kind == DeviceKind.Cpu)
            return CpuDevice.Instance;
        foreach (var backend in Snapshot())
        {
            if (backend.Kind == kind)
                return backend.TryCreate() ?? throw new DeviceUnavailableException(kind, $"No {kind} device is available on this machine.");
        }
        throw new DeviceUnavailableException(kind, $"The {kind} backend is not registered in this build.");
    }

    internal static Device CreateDefault()
    {
        var forced = Environment.GetEnvironmentVariable(Device.DeviceEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            if (!Enum.TryParse<DeviceKind>(forced.Trim(), ignoreCase: true, out var kind))
                throw new ArgumentException(
                    $"{Device.DeviceEnvironmentVariable}='{forced}' is not one of: cpu, opencl, cuda.", Device.DeviceEnvironmentVariable);
            return Create(kind);
        }
        foreach (var backend in Snapshot().OrderByDescending(b => b.Preference))
        {
            try
            {
                if (backend.TryCreate() is not { } device)
                    continue;
                // A backend that lands on the host CPU (e.g. OpenCL on PoCL) never beats our own CPU backend by default.
                if (device.RunsOnHost)
                {
                    device.Dispose();
                    continue;
                }
                return device;
            }
            catch (Exception e) when (e is DeviceUnavailableException or OpenCl.OpenClException)
            {
                // An unavailable optional backend is not an error for the default choice: fall through to the next.
            }
        }
        return CpuDevice.Instance;
    }

    private static (DeviceKind Kind, int Preference, Func<Device?> TryCreate)[] Snapshot()
    {
        lock (s_backends)
            return [.. s_backends];
    }
}

/// <summary>A backend was asked for but cannot run here; the message says how to fix it.</summary>
public sealed class DeviceUnavailableException(DeviceKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The backend that is missing.</summary>
    public DeviceKind Kind { get; } = kind;
}

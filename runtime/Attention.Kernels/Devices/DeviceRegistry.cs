namespace Attention.Kernels;

/// <summary>
/// Chooses and creates devices. The CPU backend is built in; accelerator backends register a factory when their package
/// is loaded (Attention.Kernels.Ilgpu does so from a module initializer, and the generator emits a call to it in every
/// project that references that package).
/// </summary>
public static class DeviceRegistry
{
    private static readonly List<Backend> s_backends = [];

    /// <summary>
    /// Adds a backend. <paramref name="tryCreate"/> receives the selector after the colon of
    /// <c>ATTENTION_KERNELS_DEVICE=kind:selector</c> (an index or part of a device name; null for the best device of the
    /// kind) and returns null when no such device exists. Higher <paramref name="preference"/> wins the default; a
    /// negative preference never becomes the default (it must be asked for). Registering a kind twice keeps the first.
    /// </summary>
    public static void Register(DeviceKind kind, int preference, Func<string?, Device?> tryCreate)
    {
        ArgumentNullException.ThrowIfNull(tryCreate);
        lock (s_backends)
        {
            if (!s_backends.Exists(b => b.Kind == kind))
                s_backends.Add(new Backend(kind, preference, tryCreate));
        }
    }

    /// <summary>True if a backend for <paramref name="kind"/> is registered (the CPU always is).</summary>
    public static bool IsRegistered(DeviceKind kind) => kind == DeviceKind.Cpu || Array.Exists(Snapshot(), b => b.Kind == kind);

    /// <summary>
    /// Creates a device of <paramref name="kind"/> (optionally the one matching <paramref name="selector"/>: an index
    /// among the kind's devices, or part of its name), with a clear error when it is unavailable.
    /// </summary>
    /// <exception cref="DeviceUnavailableException">The backend is not referenced, or has no such device here.</exception>
    public static Device Create(DeviceKind kind, string? selector = null)
    {
        if (kind == DeviceKind.Cpu)
            return CpuDevice.Instance;
        foreach (var backend in Snapshot())
        {
            if (backend.Kind == kind)
            {
                return backend.TryCreate(selector) ?? throw new DeviceUnavailableException(kind,
                    selector is null ? $"No {kind} device is available on this machine." : $"No {kind} device matches '{selector}' on this machine.");
            }
        }
        throw new DeviceUnavailableException(kind,
            $"The {kind} backend is not part of this application: reference the Attention.Kernels.Ilgpu package to run on {kind}.");
    }

    /// <summary>
    /// Parses a device name as <see cref="Device.DeviceEnvironmentVariable"/> takes it: <c>cpu</c>, <c>cuda</c>,
    /// <c>opencl</c> or <c>ilgpu-cpu</c>, optionally followed by <c>:index</c> or <c>:name</c>.
    /// </summary>
    public static (DeviceKind Kind, string? Selector) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':');
        string kindText = (colon < 0 ? text : text[..colon]).Trim().Replace("-", "", StringComparison.Ordinal);
        string? selector = colon < 0 ? null : text[(colon + 1)..].Trim();
        if (!Enum.TryParse<DeviceKind>(kindText, ignoreCase: true, out var kind) || int.TryParse(kindText, out _))
            throw new ArgumentException(
                $"{Device.DeviceEnvironmentVariable}='{text}' is not one of: cpu, cuda, opencl, ilgpu-cpu (optionally followed by :index or :name).",
                Device.DeviceEnvironmentVariable);
        return (kind, string.IsNullOrEmpty(selector) ? null : selector);
    }

    internal static Device CreateDefault()
    {
        var forced = Environment.GetEnvironmentVariable(Device.DeviceEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            var (kind, selector) = Parse(forced);
            return Create(kind, selector);
        }
        foreach (var backend in Snapshot().Where(b => b.Preference >= 0).OrderByDescending(b => b.Preference))
        {
            try
            {
                if (backend.TryCreate(null) is not { } device)
                    continue;
                // A backend that lands on the host CPU never beats our own CPU backend by default.
                if (device.RunsOnHost)
                {
                    device.Dispose();
                    continue;
                }
                return device;
            }
            catch (DeviceUnavailableException)
            {
                // An unavailable optional backend is not an error for the default choice: fall through to the next.
            }
        }
        return CpuDevice.Instance;
    }

    private static Backend[] Snapshot()
    {
        lock (s_backends)
            return [.. s_backends];
    }

    private sealed record Backend(DeviceKind Kind, int Preference, Func<string?, Device?> TryCreate);
}

/// <summary>A backend was asked for but cannot run here; the message says how to fix it.</summary>
public sealed class DeviceUnavailableException(DeviceKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The backend that is missing.</summary>
    public DeviceKind Kind { get; } = kind;
}

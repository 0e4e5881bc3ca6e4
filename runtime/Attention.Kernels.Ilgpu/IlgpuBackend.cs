using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Attention.Kernels.Ilgpu;

/// <summary>
/// Registers the ILGPU accelerators with <see cref="DeviceRegistry"/> and owns the process-wide ILGPU context. Loading
/// this assembly registers them (module initializer); the generator also emits a call to <see cref="Register"/> in every
/// project that references this package, so <c>Device.Default</c> sees them before any ILGPU type is touched.
/// </summary>
public static class IlgpuBackend
{
    /// <summary>Default-device preference of a CUDA GPU (highest: it wins over everything else).</summary>
    public const int CudaPreference = 20;

    /// <summary>Default-device preference of an OpenCL GPU.</summary>
    public const int OpenClPreference = 10;

    private static readonly Lazy<Context> s_context = new(CreateContext);
    private static int s_registered;

    /// <summary>Makes CUDA, OpenCL and ILGPU's CPU accelerator available to <see cref="DeviceRegistry"/> (idempotent).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) != 0)
            return;
        DeviceRegistry.Register(DeviceKind.Cuda, CudaPreference, selector => TryCreate(DeviceKind.Cuda, selector));
        DeviceRegistry.Register(DeviceKind.OpenCl, OpenClPreference, selector => TryCreate(DeviceKind.OpenCl, selector));
        // The CPU accelerator is a semantics target (about 700x slower than the CPU backend): never the default.
        DeviceRegistry.Register(DeviceKind.IlgpuCpu, -1, selector => TryCreate(DeviceKind.IlgpuCpu, selector));
    }

#pragma warning disable CA2255 // A library module initializer is the point here: registration before first use.
    [ModuleInitializer]
    internal static void RegisterOnLoad() => Register();
#pragma warning restore CA2255

    /// <summary>
    /// The ILGPU context every device created by this package shares: ILGPU.Algorithms enabled, IEEE math (no fast-math
    /// approximations), and a CPU accelerator shaped like a GPU (warps of 32, up to 1024 threads a group), so that the
    /// accelerator kernels run here with the group sizes they use on a GPU. Profiling is on: <see cref="IlgpuDevice.Time"/>
    /// (the balancer's kernel times, the GPU runner's benchmarks) brackets work with stream profiling markers, which
    /// ILGPU refuses to create otherwise.
    /// </summary>
    public static Context Context => s_context.Value;

    /// <summary>The ILGPU devices of <paramref name="kind"/> in this context (empty when the driver is missing).</summary>
    public static IReadOnlyList<ILGPU.Runtime.Device> Devices(DeviceKind kind) => kind switch
    {
        DeviceKind.Cuda => [.. Context.GetCudaDevices()],
        // GPUs first: an OpenCL CPU driver is a poor default and only taken when named.
        DeviceKind.OpenCl => OpenClDevicesGpusFirst(),
        DeviceKind.IlgpuCpu => [.. Context.GetCPUDevices()],
        _ => [],
    };

    private static List<ILGPU.Runtime.Device> OpenClDevicesGpusFirst()
    {
        var gpus = new List<ILGPU.Runtime.Device>();
        var others = new List<ILGPU.Runtime.Device>();
        foreach (var device in Context.GetCLDevices())
            (device.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU ? gpus : others).Add(device);
        return [.. gpus, .. others];
    }

    internal static IlgpuDevice? TryCreate(DeviceKind kind, string? selector)
    {
        IReadOnlyList<ILGPU.Runtime.Device> devices;
        try
        {
            devices = Devices(kind);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            throw new DeviceUnavailableException(kind, $"The {kind} driver could not be loaded: {e.Message}", e);
        }
        var device = Select(devices, kind, selector);
        if (device is null)
            return null;
        try
        {
            return IlgpuDevice.Own(device.CreateAccelerator(Context));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DeviceUnavailableException(kind, $"ILGPU could not open {kind} device '{device.Name}': {e.Message}", e);
        }
    }

    private static ILGPU.Runtime.Device? Select(IReadOnlyList<ILGPU.Runtime.Device> devices, DeviceKind kind, string? selector)
    {
        if (selector is null)
        {
            if (kind == DeviceKind.OpenCl)
                return devices.FirstOrDefault(d => d is CLDevice { DeviceType: CLDeviceType.CL_DEVICE_TYPE_GPU });
            return devices.Count > 0 ? devices[0] : null;
        }
        if (int.TryParse(selector, out int index))
            return index >= 0 && index < devices.Count ? devices[index] : null;
        return devices.FirstOrDefault(d => d.Name.Contains(selector, StringComparison.OrdinalIgnoreCase));
    }

    private static Context CreateContext()
    {
        EnableSystemOpenClLoader();
        return Context.Create(builder => builder
            .CPU(CPUDeviceKind.Nvidia)
            .Cuda()
            .OpenCL()
            .EnableAlgorithms()
            .Profiling() // device-side timestamps for Device.Time (the balancer's measure of a launch)
            .Math(MathMode.Default)
            .Optimize(OptimizationLevel.O1));
    }

    /// <summary>
    /// ILGPU loads the OpenCL ICD loader as <c>libOpenCL.so</c>, which Debian and Ubuntu ship only in the -dev package;
    /// the runtime package installs <c>libOpenCL.so.1</c>. Resolve the name to that when the plain one is missing.
    /// </summary>
    private static void EnableSystemOpenClLoader()
    {
        var ilgpu = typeof(Context).Assembly;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
            assembly == ilgpu && name == "OpenCL" && OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libOpenCL.so.1", out var handle)
                ? handle
                : IntPtr.Zero;
    }
}

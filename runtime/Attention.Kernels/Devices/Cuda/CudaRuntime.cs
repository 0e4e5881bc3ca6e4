using System.Runtime.InteropServices;
using System.Text;
using static Attention.Kernels.Cuda.CudaNative;

namespace Attention.Kernels.Cuda;

/// <summary>One CUDA device as the driver reports it.</summary>
/// <param name="Index">The device ordinal; what <see cref="CudaDevice.Create(int)"/> takes.</param>
/// <param name="Name">The GPU model, e.g. "NVIDIA H100 80GB HBM3".</param>
/// <param name="ComputeCapabilityMajor">Compute capability, major part (9 for Hopper).</param>
/// <param name="ComputeCapabilityMinor">Compute capability, minor part.</param>
/// <param name="Multiprocessors">Streaming multiprocessors (SMs).</param>
/// <param name="MaxThreadsPerBlock">Most threads in one block.</param>
/// <param name="SharedMemoryPerBlock">Static shared memory a block may use, in bytes (48 KiB on every current GPU).</param>
/// <param name="SharedMemoryPerBlockOptIn">Shared memory a block may use after opting in, in bytes.</param>
/// <param name="TotalMemory">Device memory in bytes.</param>
/// <param name="ClockRateKHz">Peak SM clock in kHz (for theoretical peaks; measured peaks are better).</param>
/// <param name="MemoryClockRateKHz">Peak memory clock in kHz.</param>
/// <param name="MemoryBusWidthBits">Memory bus width in bits.</param>
public sealed record CudaDeviceInfo(
    int Index,
    string Name,
    int ComputeCapabilityMajor,
    int ComputeCapabilityMinor,
    int Multiprocessors,
    int MaxThreadsPerBlock,
    int SharedMemoryPerBlock,
    int SharedMemoryPerBlockOptIn,
    long TotalMemory,
    int ClockRateKHz,
    int MemoryClockRateKHz,
    int MemoryBusWidthBits)
{
    /// <summary>The compute capability as a number, e.g. 90 for 9.0 (what <c>sm_90</c> and <c>compute_90</c> name).</summary>
    public int Architecture => ComputeCapabilityMajor * 10 + ComputeCapabilityMinor;

    /// <summary>The driver's <c>CUdevice</c> handle.</summary>
    internal int Handle { get; init; }

    /// <summary>Theoretical DRAM bandwidth in bytes per second (double data rate).</summary>
    public double TheoreticalBandwidth => 2.0 * MemoryClockRateKHz * 1e3 * MemoryBusWidthBits / 8;

    /// <inheritdoc />
    public override string ToString() =>
        $"#{Index} {Name} (sm_{Architecture}, {Multiprocessors} SMs, {TotalMemory / (1024.0 * 1024 * 1024):F1} GiB)";
}

/// <summary>Loading the driver and NVRTC, initializing CUDA, discovering devices.</summary>
internal static unsafe class CudaRuntime
{
    internal const string DriverInstallAdvice =
        "The CUDA backend needs the NVIDIA driver's libcuda.so.1: install the NVIDIA GPU driver for your GPU " +
        "(e.g. 'apt-get install nvidia-driver' / the 'nvidia-driver-5xx' package, or NVIDIA's .run installer); in a container, " +
        "run with the NVIDIA Container Toolkit ('--gpus all'). Check with 'nvidia-smi'.";

    internal const string NvrtcInstallAdvice =
        "The CUDA backend compiles kernels with NVRTC (libnvrtc.so): install the CUDA toolkit ('apt-get install cuda-nvrtc-12-x' " +
        "from NVIDIA's repository, or 'nvidia-cuda-toolkit'), or 'pip install nvidia-cuda-nvrtc-cu12', " +
        "or point " + NativeLibraries.NvrtcEnvironmentVariable + " at the library file (e.g. " +
        "/usr/local/cuda/lib64/libnvrtc.so.12 or .../site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12).";

    private static readonly object s_lock = new();
    private static volatile bool s_driverLoaded, s_nvrtcLoaded;
    private static Exception? s_driverFailure;
    private static IReadOnlyList<CudaDeviceInfo>? s_devices;

    /// <summary>True once libcuda has loaded (error names then come from the driver).</summary>
    public static bool DriverLoaded => s_driverLoaded;

    /// <summary>True once libnvrtc has loaded.</summary>
    public static bool NvrtcLoaded => s_nvrtcLoaded;

    /// <summary>Loads libcuda and runs <c>cuInit</c> once.</summary>
    /// <exception cref="DeviceUnavailableException">The driver library is missing, or cuInit reports no usable device.</exception>
    public static void EnsureDriver()
    {
        if (s_driverLoaded)
            return;
        lock (s_lock)
        {
            if (s_driverLoaded)
                return;
            if (s_driverFailure is not null)
                throw s_driverFailure is DeviceUnavailableException d
                    ? new DeviceUnavailableException(DeviceKind.Cuda, d.Message, d.InnerException)
                    : new DeviceUnavailableException(DeviceKind.Cuda, s_driverFailure.Message, s_driverFailure);
            try
            {
                RequireLibrary(NativeLibraries.Cuda, NativeLibraries.Candidates(NativeLibraries.Cuda), "driver", DriverInstallAdvice);
                int result = cuInit(0);
                if (result != 0)
                {
                    var error = new CudaException(CudaErrorSource.Driver, result, "cuInit");
                    throw new DeviceUnavailableException(DeviceKind.Cuda,
                        $"The NVIDIA driver library loaded but CUDA could not start: {error.Message} {DriverInstallAdvice}", error);
                }
                s_driverLoaded = true;
            }
            catch (Exception e)
            {
                s_driverFailure = e;
                throw;
            }
        }
    }

    /// <summary>Loads libnvrtc once.</summary>
    /// <exception cref="DeviceUnavailableException">No NVRTC library loads; the message lists what was tried and how to install it.</exception>
    public static void EnsureNvrtc()
    {
        if (s_nvrtcLoaded)
            return;
        lock (s_lock)
        {
            if (s_nvrtcLoaded)
                return;
            RequireLibrary(NativeLibraries.Nvrtc, NativeLibraries.Candidates(NativeLibraries.Nvrtc), "runtime compiler (NVRTC)", NvrtcInstallAdvice);
            s_nvrtcLoaded = true;
        }
    }

    /// <summary>
    /// Loads <paramref name="logicalName"/> from the first of <paramref name="candidates"/> that loads, or throws a
    /// <see cref="DeviceUnavailableException"/> that names <paramref name="what"/>, lists the candidates and gives <paramref name="advice"/>.
    /// </summary>
    internal static void RequireLibrary(string logicalName, IReadOnlyList<string> candidates, string what, string advice)
    {
        if (!NativeLibraries.TryLoad(logicalName, candidates, out _))
            throw new DeviceUnavailableException(DeviceKind.Cuda,
                $"No CUDA {what} library on this machine (tried {string.Join(", ", candidates)}). {advice}");
    }

    /// <summary>The driver's CUDA version, e.g. 12040 for 12.4.</summary>
    public static int DriverVersion
    {
        get
        {
            EnsureDriver();
            int version;
            CudaException.Check(cuDriverGetVersion(&version), "cuDriverGetVersion");
            return version;
        }
    }

    /// <summary>NVRTC's version as (major, minor).</summary>
    public static (int Major, int Minor) NvrtcVersion
    {
        get
        {
            EnsureNvrtc();
            int major, minor;
            CudaException.CheckNvrtc(NvrtcNative.nvrtcVersion(&major, &minor), "nvrtcVersion");
            return (major, minor);
        }
    }

    /// <summary>Every CUDA device (cached after the first call).</summary>
    public static IReadOnlyList<CudaDeviceInfo> Devices
    {
        get
        {
            if (s_devices is { } devices)
                return devices;
            EnsureDriver();
            lock (s_lock)
                return s_devices ??= Discover();
        }
    }

    private static CudaDeviceInfo[] Discover()
    {
        int count;
        int result = cuDeviceGetCount(&count);
        if (result == 100) // CUDA_ERROR_NO_DEVICE
            return [];
        CudaException.Check(result, "cuDeviceGetCount");
        var devices = new CudaDeviceInfo[count];
        byte* name = stackalloc byte[256];
        for (int i = 0; i < count; i++)
        {
            int device;
            CudaException.Check(cuDeviceGet(&device, i), "cuDeviceGet");
            CudaException.Check(cuDeviceGetName(name, 256, device), "cuDeviceGetName");
            nuint total;
            CudaException.Check(cuDeviceTotalMem_v2(&total, device), "cuDeviceTotalMem_v2");
            devices[i] = new CudaDeviceInfo(
                i,
                Marshal.PtrToStringUTF8((nint)name) ?? $"CUDA device {i}",
                Attribute(device, AttributeComputeCapabilityMajor),
                Attribute(device, AttributeComputeCapabilityMinor),
                Attribute(device, AttributeMultiprocessorCount),
                Attribute(device, AttributeMaxThreadsPerBlock),
                Attribute(device, AttributeMaxSharedMemoryPerBlock),
                Attribute(device, AttributeMaxSharedMemoryPerBlockOptin),
                (long)total,
                Attribute(device, AttributeClockRate),
                Attribute(device, AttributeMemoryClockRate),
                Attribute(device, AttributeGlobalMemoryBusWidth))
            { Handle = device };
        }
        return devices;
    }

    private static int Attribute(int device, int attribute)
    {
        int value;
        CudaException.Check(cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute", $"(attribute {attribute})");
        return value;
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/>.</summary>
    internal static byte[] Utf8z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}

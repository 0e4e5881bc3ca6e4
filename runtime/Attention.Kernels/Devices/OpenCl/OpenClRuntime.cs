using System.Text;
using static Attention.Kernels.OpenCl.OpenClNative;

namespace Attention.Kernels.OpenCl;

/// <summary>What kind of processor an OpenCL device is.</summary>
public enum OpenClDeviceType
{
    /// <summary>A GPU.</summary>
    Gpu,

    /// <summary>The host CPU through an OpenCL driver (e.g. PoCL).</summary>
    Cpu,

    /// <summary>An accelerator (FPGA, DSP…).</summary>
    Accelerator,

    /// <summary>Anything else the driver reports.</summary>
    Other,
}

/// <summary>One OpenCL device as discovered on this machine (platforms in ICD order, devices in platform order).</summary>
/// <param name="Index">Position in <see cref="OpenClDevice.Discover"/>; what <see cref="OpenClDevice.Create(int)"/> takes.</param>
/// <param name="Platform">The platform (driver) name, e.g. "Portable Computing Language".</param>
/// <param name="Name">The device name.</param>
/// <param name="Type">GPU, CPU, accelerator.</param>
/// <param name="Version">CL_DEVICE_VERSION, e.g. "OpenCL 3.0 …".</param>
/// <param name="DriverVersion">CL_DRIVER_VERSION (part of the kernel cache key).</param>
/// <param name="ComputeUnits">CL_DEVICE_MAX_COMPUTE_UNITS.</param>
/// <param name="MaxWorkGroupSize">CL_DEVICE_MAX_WORK_GROUP_SIZE: work-items per work-group.</param>
/// <param name="MaxWorkItemSize">CL_DEVICE_MAX_WORK_ITEM_SIZES[0]: work-items along axis 0 of a work-group.</param>
/// <param name="LocalMemorySize">CL_DEVICE_LOCAL_MEM_SIZE in bytes: bounds the key/value tiles.</param>
/// <param name="MaxAllocationSize">CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer in bytes.</param>
/// <param name="GlobalMemorySize">CL_DEVICE_GLOBAL_MEM_SIZE in bytes.</param>
public sealed record OpenClDeviceInfo(
    int Index,
    string Platform,
    string Name,
    OpenClDeviceType Type,
    string Version,
    string DriverVersion,
    int ComputeUnits,
    long MaxWorkGroupSize,
    long MaxWorkItemSize,
    long LocalMemorySize,
    long MaxAllocationSize,
    long GlobalMemorySize)
{
    internal nint PlatformId { get; init; }
    internal nint DeviceId { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"#{Index} {Platform}: {Name} ({Type}, {Version})";
}

/// <summary>Loading the ICD loader and discovering devices.</summary>
internal static unsafe class OpenClRuntime
{
    internal const string InstallAdvice =
        "Install an OpenCL driver: on Debian/Ubuntu 'apt-get install ocl-icd-libopencl1 pocl-opencl-icd' (portable CPU driver), " +
        "or your GPU vendor's OpenCL ICD (NVIDIA driver, ROCm 'rocm-opencl-runtime', Intel 'intel-opencl-icd'). " +
        "'clinfo -l' should then list a platform.";

    private static readonly Lazy<OpenClDeviceInfo[]> s_devices = new(DiscoverCore);

    /// <summary>Throws <see cref="DeviceUnavailableException"/> if the ICD loader library cannot be loaded.</summary>
    public static void EnsureLoaded()
    {
        if (!NativeLibraries.TryLoad(NativeLibraries.OpenCl, out _))
            throw new DeviceUnavailableException(DeviceKind.OpenCl,
                $"The OpenCL ICD loader ({string.Join(" or ", NativeLibraries.Candidates(NativeLibraries.OpenCl))}) was not found. {InstallAdvice}");
    }

    /// <summary>All devices of all platforms; throws <see cref="DeviceUnavailableException"/> when there are none.</summary>
    public static OpenClDeviceInfo[] Devices => s_devices.Value;

    private static OpenClDeviceInfo[] DiscoverCore()
    {
        EnsureLoaded();
        uint platformCount = 0;
        int status = clGetPlatformIDs(0, null, &platformCount);
        if (status == -1001 || platformCount == 0) // CL_PLATFORM_NOT_FOUND_KHR: the loader is there, no driver is registered
            throw new DeviceUnavailableException(DeviceKind.OpenCl,
                $"The OpenCL ICD loader found no platform (no driver .icd file in /etc/OpenCL/vendors, or in OCL_ICD_VENDORS when set). {InstallAdvice}");
        OpenClException.Check(status, "clGetPlatformIDs");
        var platforms = new nint[platformCount];
        fixed (nint* p = platforms)
            OpenClException.Check(clGetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");

        var devices = new List<OpenClDeviceInfo>();
        nuint* itemSizes = stackalloc nuint[3];
        foreach (nint platform in platforms)
        {
            uint count = 0;
            status = clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &count);
            if (status == -1 || count == 0) // CL_DEVICE_NOT_FOUND: a platform without devices is skipped
                continue;
            OpenClException.Check(status, "clGetDeviceIDs");
            var ids = new nint[count];
            fixed (nint* p = ids)
                OpenClException.Check(clGetDeviceIDs(platform, DeviceTypeAll, count, p, null), "clGetDeviceIDs");
            string platformName = PlatformString(platform, PlatformName);
            foreach (nint id in ids)
            {
                ulong type = DeviceValue<ulong>(id, DeviceType);
                OpenClException.Check(clGetDeviceInfo(id, DeviceMaxWorkItemSizes, (nuint)(3 * sizeof(nuint)), itemSizes, null), "clGetDeviceInfo");
                devices.Add(new OpenClDeviceInfo(
                    devices.Count,
                    platformName,
                    DeviceString(id, DeviceName),
                    (type & DeviceTypeGpu) != 0 ? OpenClDeviceType.Gpu
                        : (type & DeviceTypeCpu) != 0 ? OpenClDeviceType.Cpu
                        : (type & DeviceTypeAccelerator) != 0 ? OpenClDeviceType.Accelerator
                        : OpenClDeviceType.Other,
                    DeviceString(id, DeviceVersion),
                    DeviceString(id, DriverVersion),
                    (int)DeviceValue<uint>(id, DeviceMaxComputeUnits),
                    (long)DeviceValue<nuint>(id, DeviceMaxWorkGroupSize),
                    (long)itemSizes[0],
                    (long)DeviceValue<ulong>(id, DeviceLocalMemSize),
                    (long)DeviceValue<ulong>(id, DeviceMaxMemAllocSize),
                    (long)DeviceValue<ulong>(id, DeviceGlobalMemSize))
                {
                    PlatformId = platform,
                    DeviceId = id,
                });
            }
        }
        if (devices.Count == 0)
            throw new DeviceUnavailableException(DeviceKind.OpenCl,
                $"OpenCL platforms were found ({platforms.Length}) but none has a device. {InstallAdvice}");
        return [.. devices];
    }

    private static T DeviceValue<T>(nint device, uint name) where T : unmanaged
    {
        T value = default;
        OpenClException.Check(clGetDeviceInfo(device, name, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }

    private static string DeviceString(nint device, uint name)
    {
        nuint size = 0;
        OpenClException.Check(clGetDeviceInfo(device, name, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
            OpenClException.Check(clGetDeviceInfo(device, name, size, p, null), "clGetDeviceInfo");
        return CString(bytes);
    }

    private static string PlatformString(nint platform, uint name)
    {
        nuint size = 0;
        OpenClException.Check(clGetPlatformInfo(platform, name, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
            OpenClException.Check(clGetPlatformInfo(platform, name, size, p, null), "clGetPlatformInfo");
        return CString(bytes);
    }

    /// <summary>A NUL-terminated UTF-8 buffer as a trimmed string.</summary>
    internal static string CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]).Trim();
    }

    /// <summary>A string as NUL-terminated UTF-8.</summary>
    internal static byte[] Utf8Z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}

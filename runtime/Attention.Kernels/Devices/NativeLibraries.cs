using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Attention.Kernels;

/// <summary>
/// Lazily loads the native driver libraries the device backends bind to with <c>[LibraryImport]</c>. The runtime
/// assembly resolves each logical library name (e.g. <c>"OpenCL"</c>, <c>"cuda"</c>, <c>"nvrtc"</c>) to the first of its
/// platform-specific file names that loads, once, on first use. A backend calls <see cref="TryLoad(string, out nint)"/> before its first
/// native call so a missing driver becomes a <see cref="DeviceUnavailableException"/> with install advice instead of a
/// <see cref="DllNotFoundException"/>.
/// </summary>
/// <remarks>
/// An assembly can have only one DLL-import resolver, so every backend's library names live in this one class
/// (the OpenCL and CUDA branches each add theirs to <see cref="Candidates"/>).
/// </remarks>
internal static class NativeLibraries
{
    /// <summary>Logical name of the OpenCL ICD loader used in the <c>[LibraryImport]</c> declarations.</summary>
    public const string OpenCl = "OpenCL";

    /// <summary>Logical name of the CUDA driver API library (<c>libcuda.so.1</c>, installed with the NVIDIA driver).</summary>
    public const string Cuda = "cuda";

    /// <summary>Logical name of the NVRTC runtime compiler (part of the CUDA toolkit, or the <c>nvidia-cuda-nvrtc</c> wheels).</summary>
    public const string Nvrtc = "nvrtc";

    /// <summary>Environment variable with the full path of the NVRTC library to use; tried before the usual names.</summary>
    public const string NvrtcEnvironmentVariable = "ATTENTION_KERNELS_NVRTC";

    private static readonly ConcurrentDictionary<string, nint> s_handles = new(StringComparer.Ordinal);

    static NativeLibraries() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    /// <summary>File names tried, in order, for a logical library name on this operating system.</summary>
    public static string[] Candidates(string name) => name switch
    {
        OpenCl when OperatingSystem.IsWindows() => ["OpenCL.dll"],
        OpenCl when OperatingSystem.IsMacOS() => ["/System/Library/Frameworks/OpenCL.framework/OpenCL"],
        OpenCl => ["libOpenCL.so.1", "libOpenCL.so"],
        Cuda when OperatingSystem.IsWindows() => ["nvcuda.dll"],
        Cuda => ["libcuda.so.1", "libcuda.so"],
        Nvrtc => NvrtcCandidates(Environment.GetEnvironmentVariable(NvrtcEnvironmentVariable)),
        _ => [name],
    };

    /// <summary>
    /// NVRTC's file names: <paramref name="overridePath"/> (from <see cref="NvrtcEnvironmentVariable"/>) first, then the
    /// unversioned and versioned sonames of CUDA 13 down to 11.2, then the toolkit's default install directory.
    /// </summary>
    public static string[] NvrtcCandidates(string? overridePath)
    {
        var names = new List<string>();
        if (!string.IsNullOrWhiteSpace(overridePath))
            names.Add(overridePath.Trim());
        if (OperatingSystem.IsWindows())
        {
            names.AddRange(["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]);
            return [.. names];
        }
        string[] sonames = ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"];
        names.AddRange(sonames);
        foreach (string dir in (string[])["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu"])
            foreach (string soname in sonames)
                names.Add(Path.Combine(dir, soname));
        return [.. names];
    }

    /// <summary>Loads (once) the library behind <paramref name="name"/>; false if none of its candidates loads.</summary>
    public static bool TryLoad(string name, out nint handle) => TryLoad(name, Candidates(name), out handle);

    /// <summary>Loads (once) the library behind <paramref name="name"/> from the first of <paramref name="candidates"/> that loads.</summary>
    public static bool TryLoad(string name, IEnumerable<string> candidates, out nint handle)
    {
        if (s_handles.TryGetValue(name, out handle))
            return true;
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, typeof(NativeLibraries).Assembly, DllImportSearchPath.SafeDirectories, out handle) ||
                NativeLibrary.TryLoad(candidate, out handle))
            {
                handle = s_handles.GetOrAdd(name, handle);
                return true;
            }
        }
        handle = 0;
        return false;
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        TryLoad(name, out nint handle) ? handle : 0;
}

using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Attention.Kernels;

/// <summary>
/// Lazily loads the native driver libraries the device backends bind to with <c>[LibraryImport]</c>. The runtime
/// assembly resolves each logical library name (e.g. <c>"OpenCL"</c>) to the first of its platform-specific file names
/// that loads, once, on first use. A backend calls <see cref="TryLoad"/> before its first native call so a missing
/// driver becomes a <see cref="DeviceUnavailableException"/> with install advice instead of a <see cref="DllNotFoundException"/>.
/// </summary>
internal static class NativeLibraries
{
    /// <summary>Logical name of the OpenCL ICD loader used in the <c>[LibraryImport]</c> declarations.</summary>
    public const string OpenCl = "OpenCL";

    private static readonly ConcurrentDictionary<string, nint> s_handles = new(StringComparer.Ordinal);

    static NativeLibraries() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    /// <summary>File names tried, in order, for a logical library name on this operating system.</summary>
    public static string[] Candidates(string name) => name switch
    {
        OpenCl when OperatingSystem.IsWindows() => ["OpenCL.dll"],
        OpenCl when OperatingSystem.IsMacOS() => ["/System/Library/Frameworks/OpenCL.framework/OpenCL"],
        OpenCl => ["libOpenCL.so.1", "libOpenCL.so"],
        _ => [name],
    };

    /// <summary>Loads (once) the library behind <paramref name="name"/>; false if none of its candidates loads.</summary>
    public static bool TryLoad(string name, out nint handle)
    {
        if (s_handles.TryGetValue(name, out handle))
            return true;
        foreach (string candidate in Candidates(name))
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

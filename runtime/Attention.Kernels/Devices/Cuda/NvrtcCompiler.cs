using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using static Attention.Kernels.Cuda.NvrtcNative;

namespace Attention.Kernels.Cuda;

/// <summary>A compiled device image: a cubin (SASS for one architecture) or PTX (JIT-compiled by the driver at load).</summary>
/// <param name="Image">The bytes handed to <c>cuModuleLoadDataEx</c> (PTX is NUL-terminated).</param>
/// <param name="IsCubin">True for a cubin, false for PTX.</param>
/// <param name="Target">The <c>--gpu-architecture</c> it was compiled for, e.g. <c>sm_90</c> or <c>compute_90</c>.</param>
/// <param name="Log">NVRTC's log (warnings), possibly empty.</param>
public sealed record CudaImage(byte[] Image, bool IsCubin, string Target, string Log);

/// <summary>
/// Compiles CUDA C++ with NVRTC. Images are cached in memory per (architecture, SHA-256 of the source, options), so
/// every device of one architecture shares one compilation. A failed compilation throws a <see cref="CudaException"/>
/// carrying NVRTC's log and the kernel's name.
/// </summary>
public static unsafe class NvrtcCompiler
{
    private static readonly ConcurrentDictionary<(int Architecture, string Hash, string Options), CudaImage> s_cache = new();
    private static int s_compilations;

    /// <summary>Compilations done (cache misses) in this process.</summary>
    public static int Compilations => Volatile.Read(ref s_compilations);

    /// <summary>Hex SHA-256 of <paramref name="source"/>: the source part of the cache key.</summary>
    public static string Hash(string source) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    /// <summary>
    /// Compiles <paramref name="source"/> for compute capability <paramref name="architecture"/> (e.g. 90), or returns the
    /// cached image. Prefers a cubin for <c>sm_XY</c> (no PTX JIT, so no PTX-version mismatch with an older driver);
    /// falls back to PTX for <c>compute_XY</c> (clamped to the newest architecture this NVRTC supports) when
    /// <paramref name="preferCubin"/> is false or NVRTC cannot emit a cubin for the device.
    /// </summary>
    /// <param name="source">Complete CUDA C++ source (prelude included).</param>
    /// <param name="kernelName">The entry point, named in errors.</param>
    /// <param name="architecture">Compute capability as major*10+minor.</param>
    /// <param name="options">Extra NVRTC options, e.g. <c>-DBLOCK_K=32</c>.</param>
    /// <param name="preferCubin">Compile to SASS for the exact GPU instead of PTX.</param>
    /// <exception cref="CudaException">NVRTC rejected the source: <see cref="CudaException.Log"/> holds the compile log.</exception>
    /// <exception cref="DeviceUnavailableException">No NVRTC library could be loaded.</exception>
    public static CudaImage Compile(string source, string kernelName, int architecture, IReadOnlyList<string>? options = null, bool preferCubin = true)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(kernelName);
        options ??= [];
        string key = string.Join('\u001f', options) + (preferCubin ? "|cubin" : "|ptx");
        var cacheKey = (architecture, Hash(source), key);
        if (s_cache.TryGetValue(cacheKey, out var cached))
            return cached;
        CudaRuntime.EnsureNvrtc();
        int target = ClampToSupported(architecture);
        CudaImage image;
        if (preferCubin && target == architecture)
        {
            try
            {
                image = CompileOnce(source, kernelName, $"sm_{architecture}", options, cubin: true);
            }
            catch (CudaException e) when (e.Function == "nvrtcGetCUBINSize")
            {
                image = CompileOnce(source, kernelName, $"compute_{target}", options, cubin: false);
            }
        }
        else
        {
            image = CompileOnce(source, kernelName, $"compute_{target}", options, cubin: false);
        }
        Interlocked.Increment(ref s_compilations);
        return s_cache.GetOrAdd(cacheKey, image);
    }

    /// <summary>The NVRTC options used for every compilation besides the architecture and the caller's options.</summary>
    public static readonly string[] DefaultOptions = ["--std=c++17"];

    /// <summary>The newest architecture ≤ <paramref name="architecture"/> that this NVRTC can target (itself when the query is unsupported).</summary>
    public static int ClampToSupported(int architecture)
    {
        CudaRuntime.EnsureNvrtc();
        try
        {
            int count;
            if (nvrtcGetNumSupportedArchs(&count) != 0 || count <= 0)
                return architecture;
            var archs = new int[count];
            fixed (int* p = archs)
                if (nvrtcGetSupportedArchs(p) != 0)
                    return architecture;
            int best = -1;
            foreach (int a in archs)
                if (a <= architecture && a > best)
                    best = a;
            return best > 0 ? best : architecture;
        }
        catch (EntryPointNotFoundException)
        {
            return architecture; // NVRTC older than 11.2
        }
    }

    private static CudaImage CompileOnce(string source, string kernelName, string target, IReadOnlyList<string> options, bool cubin)
    {
        nint program = 0;
        byte[] sourceBytes = CudaRuntime.Utf8z(source);
        byte[] nameBytes = CudaRuntime.Utf8z(kernelName + ".cu");
        fixed (byte* s = sourceBytes)
        fixed (byte* n = nameBytes)
            CudaException.CheckNvrtc(nvrtcCreateProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram", $"[kernel '{kernelName}']");
        try
        {
            var all = new List<string>(DefaultOptions) { $"--gpu-architecture={target}" };
            all.AddRange(options);
            var pinned = all.Select(CudaRuntime.Utf8z).Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
            int result;
            try
            {
                var pointers = stackalloc byte*[pinned.Length];
                for (int i = 0; i < pinned.Length; i++)
                    pointers[i] = (byte*)pinned[i].AddrOfPinnedObject();
                result = nvrtcCompileProgram(program, pinned.Length, pointers);
            }
            finally
            {
                foreach (var handle in pinned)
                    handle.Free();
            }
            string log = ProgramLog(program);
            if (result != 0)
                throw new CudaException(CudaErrorSource.Nvrtc, result, "nvrtcCompileProgram",
                    $"Options: {string.Join(' ', all)}.", log, kernelName);

            nuint size;
            byte[] image;
            if (cubin)
            {
                CudaException.CheckNvrtc(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
                if (size == 0)
                    throw new CudaException(CudaErrorSource.Nvrtc, 3, "nvrtcGetCUBINSize", $"NVRTC produced no cubin for {target}.");
                image = new byte[size];
                fixed (byte* p = image)
                    CudaException.CheckNvrtc(nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
            }
            else
            {
                CudaException.CheckNvrtc(nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
                image = new byte[size]; // includes the terminating NUL
                fixed (byte* p = image)
                    CudaException.CheckNvrtc(nvrtcGetPTX(program, p), "nvrtcGetPTX");
            }
            return new CudaImage(image, cubin, target, log);
        }
        finally
        {
            nvrtcDestroyProgram(&program);
        }
    }

    private static string ProgramLog(nint program)
    {
        nuint size;
        if (nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1)
            return "";
        var log = new byte[size];
        fixed (byte* p = log)
            if (nvrtcGetProgramLog(program, p) != 0)
                return "";
        return Encoding.UTF8.GetString(log, 0, (int)size - 1);
    }
}

using System.Runtime.InteropServices;

namespace Attention.Kernels.Cuda;

/// <summary>
/// A CUDA driver API call (<c>CUresult</c>) or an NVRTC call (<c>nvrtcResult</c>) failed. The message names the call,
/// the error (e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>, <c>NVRTC_ERROR_COMPILATION</c>) and its meaning; a failed kernel
/// compilation also carries the compiler's log and the kernel's name.
/// </summary>
public sealed class CudaException : Exception
{
    internal CudaException(CudaErrorSource source, int code, string function, string? detail = null, string? log = null, string? kernelName = null)
        : base(Format(source, code, function, detail, log, kernelName))
    {
        Library = source;
        Code = code;
        Function = function;
        Log = log;
        KernelName = kernelName;
        ErrorName = source == CudaErrorSource.Driver ? DriverErrorName(code) : NvrtcErrorName(code);
    }

    /// <summary>Which library reported the error.</summary>
    public CudaErrorSource Library { get; }

    /// <summary>The raw <c>CUresult</c> or <c>nvrtcResult</c>.</summary>
    public int Code { get; }

    /// <summary>The symbolic name, e.g. <c>CUDA_ERROR_INVALID_PTX</c> or <c>NVRTC_ERROR_COMPILATION</c>.</summary>
    public string ErrorName { get; }

    /// <summary>The API function that failed, e.g. <c>nvrtcCompileProgram</c>.</summary>
    public string Function { get; }

    /// <summary>The compiler's (NVRTC) or JIT linker's (cuModuleLoadDataEx) log, when there is one.</summary>
    public string? Log { get; }

    /// <summary>The kernel (entry point) being compiled, loaded or launched, when known.</summary>
    public string? KernelName { get; }

    internal static void Check(int result, string function, string? detail = null)
    {
        if (result != 0)
            throw new CudaException(CudaErrorSource.Driver, result, function, detail);
    }

    internal static void CheckNvrtc(int result, string function, string? detail = null)
    {
        if (result != 0)
            throw new CudaException(CudaErrorSource.Nvrtc, result, function, detail);
    }

    private static string Format(CudaErrorSource source, int code, string function, string? detail, string? log, string? kernelName)
    {
        string name = source == CudaErrorSource.Driver ? DriverErrorName(code) : NvrtcErrorName(code);
        string meaning = source == CudaErrorSource.Driver ? DriverErrorMessage(code) : NvrtcErrorMessage(code);
        string text = $"{function} failed: {name} ({code}): {meaning}";
        if (kernelName is not null)
            text += $" [kernel '{kernelName}']";
        if (!string.IsNullOrEmpty(detail))
            text += " " + detail;
        if (!string.IsNullOrWhiteSpace(log))
            text += Environment.NewLine + "Log:" + Environment.NewLine + log.TrimEnd();
        return text;
    }

    /// <summary>The <c>CUresult</c> name: from the loaded driver (<c>cuGetErrorName</c>) when possible, else from a built-in table.</summary>
    public static string DriverErrorName(int code)
    {
        if (CudaRuntime.DriverLoaded)
        {
            unsafe
            {
                byte* text = null;
                if (CudaNative.cuGetErrorName(code, &text) == 0 && text != null)
                    return Marshal.PtrToStringUTF8((nint)text) ?? $"CUresult {code}";
            }
        }
        return s_driverErrors.TryGetValue(code, out var entry) ? entry.Name : $"CUresult {code}";
    }

    /// <summary>What a <c>CUresult</c> means: from the loaded driver (<c>cuGetErrorString</c>) when possible, else from a built-in table.</summary>
    public static string DriverErrorMessage(int code)
    {
        if (CudaRuntime.DriverLoaded)
        {
            unsafe
            {
                byte* text = null;
                if (CudaNative.cuGetErrorString(code, &text) == 0 && text != null)
                    return Marshal.PtrToStringUTF8((nint)text) ?? "unknown error";
            }
        }
        return s_driverErrors.TryGetValue(code, out var entry) ? entry.Message : "unknown CUDA driver error";
    }

    /// <summary>The <c>nvrtcResult</c> name, e.g. <c>NVRTC_ERROR_COMPILATION</c> (from NVRTC itself when it is loaded).</summary>
    public static string NvrtcErrorName(int code)
    {
        if (CudaRuntime.NvrtcLoaded)
        {
            unsafe
            {
                byte* text = NvrtcNative.nvrtcGetErrorString(code);
                if (text != null && Marshal.PtrToStringUTF8((nint)text) is { Length: > 0 } name)
                    return name;
            }
        }
        return code >= 0 && code < s_nvrtcErrors.Length ? s_nvrtcErrors[code].Name : $"nvrtcResult {code}";
    }

    /// <summary>What an <c>nvrtcResult</c> means.</summary>
    public static string NvrtcErrorMessage(int code) =>
        code >= 0 && code < s_nvrtcErrors.Length ? s_nvrtcErrors[code].Message : "unknown NVRTC error";

    private static readonly (string Name, string Message)[] s_nvrtcErrors =
    [
        ("NVRTC_SUCCESS", "no error"),
        ("NVRTC_ERROR_OUT_OF_MEMORY", "the compiler ran out of host memory"),
        ("NVRTC_ERROR_PROGRAM_CREATION_FAILURE", "the program could not be created"),
        ("NVRTC_ERROR_INVALID_INPUT", "an argument was invalid"),
        ("NVRTC_ERROR_INVALID_PROGRAM", "the program handle is invalid"),
        ("NVRTC_ERROR_INVALID_OPTION", "a compile option was not recognized"),
        ("NVRTC_ERROR_COMPILATION", "the source did not compile (see the log)"),
        ("NVRTC_ERROR_BUILTIN_OPERATION_FAILURE", "a builtin operation failed (is libnvrtc-builtins next to libnvrtc?)"),
        ("NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION", "name expressions were added after compilation"),
        ("NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION", "lowered names were asked for before compilation"),
        ("NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID", "a name expression is not valid"),
        ("NVRTC_ERROR_INTERNAL_ERROR", "internal compiler error"),
    ];

    private static readonly Dictionary<int, (string Name, string Message)> s_driverErrors = new()
    {
        [0] = ("CUDA_SUCCESS", "no error"),
        [1] = ("CUDA_ERROR_INVALID_VALUE", "invalid argument"),
        [2] = ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory"),
        [3] = ("CUDA_ERROR_NOT_INITIALIZED", "initialization error (cuInit was not called or failed)"),
        [4] = ("CUDA_ERROR_DEINITIALIZED", "driver shutting down"),
        [34] = ("CUDA_ERROR_STUB_LIBRARY", "the loaded libcuda is a stub, not the real driver library"),
        [46] = ("CUDA_ERROR_DEVICE_UNAVAILABLE", "the device is busy or unavailable"),
        [100] = ("CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"),
        [101] = ("CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"),
        [200] = ("CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"),
        [201] = ("CUDA_ERROR_INVALID_CONTEXT", "invalid device context"),
        [209] = ("CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"),
        [218] = ("CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"),
        [221] = ("CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "PTX JIT compiler library not found"),
        [222] = ("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain (NVRTC newer than the driver)"),
        [300] = ("CUDA_ERROR_INVALID_SOURCE", "device kernel source is invalid"),
        [400] = ("CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"),
        [500] = ("CUDA_ERROR_NOT_FOUND", "named symbol not found"),
        [600] = ("CUDA_ERROR_NOT_READY", "device not ready"),
        [700] = ("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"),
        [701] = ("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"),
        [702] = ("CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"),
        [709] = ("CUDA_ERROR_CONTEXT_IS_DESTROYED", "context is destroyed"),
        [710] = ("CUDA_ERROR_ASSERT", "device-side assert triggered"),
        [714] = ("CUDA_ERROR_HARDWARE_STACK_ERROR", "hardware stack error"),
        [715] = ("CUDA_ERROR_ILLEGAL_INSTRUCTION", "an illegal instruction was encountered"),
        [716] = ("CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"),
        [719] = ("CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"),
        [800] = ("CUDA_ERROR_NOT_PERMITTED", "operation not permitted"),
        [801] = ("CUDA_ERROR_NOT_SUPPORTED", "operation not supported"),
        [803] = ("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "system has unsupported display driver / cuda driver combination"),
        [804] = ("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", "forward compatibility was attempted on non supported HW"),
        [999] = ("CUDA_ERROR_UNKNOWN", "unknown error"),
    };
}

/// <summary>Which CUDA library reported an error.</summary>
public enum CudaErrorSource
{
    /// <summary>The driver API (<c>libcuda</c>), a <c>CUresult</c>.</summary>
    Driver,

    /// <summary>The runtime compiler (<c>libnvrtc</c>), an <c>nvrtcResult</c>.</summary>
    Nvrtc,
}

namespace Attention.Kernels.OpenCl;

/// <summary>An OpenCL call failed. <see cref="ErrorName"/> is the driver's error code by name (e.g. <c>CL_OUT_OF_RESOURCES</c>).</summary>
public class OpenClException : Exception
{
    /// <summary>Creates the exception for a failed call.</summary>
    public OpenClException(int errorCode, string operation, string? detail = null, Exception? inner = null)
        : base(Format(errorCode, operation, detail), inner)
    {
        ErrorCode = errorCode;
        Operation = operation;
    }

    /// <summary>The raw <c>cl_int</c> error code (negative).</summary>
    public int ErrorCode { get; }

    /// <summary>The error code's name, e.g. <c>CL_BUILD_PROGRAM_FAILURE</c>.</summary>
    public string ErrorName => NameOf(ErrorCode);

    /// <summary>What was being done, e.g. <c>clBuildProgram</c>.</summary>
    public string Operation { get; }

    /// <summary>The name of an OpenCL error code (<c>CL_UNKNOWN_ERROR(n)</c> for codes this table does not know).</summary>
    public static string NameOf(int code) => code switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -7 => "CL_PROFILING_INFO_NOT_AVAILABLE",
        -8 => "CL_MEM_COPY_OVERLAP",
        -9 => "CL_IMAGE_FORMAT_MISMATCH",
        -10 => "CL_IMAGE_FORMAT_NOT_SUPPORTED",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -12 => "CL_MAP_FAILURE",
        -13 => "CL_MISALIGNED_SUB_BUFFER_OFFSET",
        -14 => "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
        -15 => "CL_COMPILE_PROGRAM_FAILURE",
        -16 => "CL_LINKER_NOT_AVAILABLE",
        -17 => "CL_LINK_PROGRAM_FAILURE",
        -18 => "CL_DEVICE_PARTITION_FAILED",
        -19 => "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
        -30 => "CL_INVALID_VALUE",
        -31 => "CL_INVALID_DEVICE_TYPE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -35 => "CL_INVALID_QUEUE_PROPERTIES",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -37 => "CL_INVALID_HOST_PTR",
        -38 => "CL_INVALID_MEM_OBJECT",
        -39 => "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
        -40 => "CL_INVALID_IMAGE_SIZE",
        -41 => "CL_INVALID_SAMPLER",
        -42 => "CL_INVALID_BINARY",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -47 => "CL_INVALID_KERNEL_DEFINITION",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -56 => "CL_INVALID_GLOBAL_OFFSET",
        -57 => "CL_INVALID_EVENT_WAIT_LIST",
        -58 => "CL_INVALID_EVENT",
        -59 => "CL_INVALID_OPERATION",
        -60 => "CL_INVALID_GL_OBJECT",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -62 => "CL_INVALID_MIP_LEVEL",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -64 => "CL_INVALID_PROPERTY",
        -65 => "CL_INVALID_IMAGE_DESCRIPTOR",
        -66 => "CL_INVALID_COMPILER_OPTIONS",
        -67 => "CL_INVALID_LINKER_OPTIONS",
        -68 => "CL_INVALID_DEVICE_PARTITION_COUNT",
        -69 => "CL_INVALID_PIPE_SIZE",
        -70 => "CL_INVALID_DEVICE_QUEUE",
        -71 => "CL_INVALID_SPEC_ID",
        -72 => "CL_MAX_SIZE_RESTRICTION_EXCEEDED",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => $"CL_UNKNOWN_ERROR({code})",
    };

    /// <summary>A short explanation of common error codes, or null.</summary>
    public static string? Explain(int code) => code switch
    {
        -4 => "the device could not allocate the memory",
        -5 => "the device ran out of resources (memory, registers, or a kernel fault)",
        -6 => "the host ran out of memory",
        -11 => "the kernel source did not compile; see the build log",
        -43 => "the driver rejected the build options",
        -46 => "the program has no kernel of that name",
        -54 => "the work-group size is not allowed for this kernel or device",
        -61 => "the buffer size is zero or larger than the device's maximum allocation",
        -1001 => "the ICD loader found no OpenCL platform (no driver installed)",
        _ => null,
    };

    /// <summary>Throws an <see cref="OpenClException"/> unless <paramref name="code"/> is CL_SUCCESS.</summary>
    internal static void Check(int code, string operation)
    {
        if (code != 0)
            throw new OpenClException(code, operation);
    }

    private static string Format(int code, string operation, string? detail)
    {
        string text = $"{operation} failed with {NameOf(code)} ({code})";
        if (Explain(code) is { } why)
            text += ": " + why;
        return detail is null ? text + "." : text + ". " + detail;
    }
}

/// <summary>
/// A kernel source did not build. The message and <see cref="BuildLog"/> carry the driver's build log;
/// <see cref="KernelName"/> names the entry point that was being built.
/// </summary>
public sealed class OpenClBuildException(int errorCode, string kernelName, string buildOptions, string buildLog, string deviceName)
    : OpenClException(errorCode, "clBuildProgram",
        $"Kernel '{kernelName}' did not build for {deviceName} with options \"{buildOptions}\". Build log:\n{buildLog}")
{
    /// <summary>The kernel entry point being built.</summary>
    public string KernelName { get; } = kernelName;

    /// <summary>The options passed to the driver's compiler.</summary>
    public string BuildOptions { get; } = buildOptions;

    /// <summary>The driver's build log (compiler errors and warnings), possibly empty.</summary>
    public string BuildLog { get; } = buildLog;
}

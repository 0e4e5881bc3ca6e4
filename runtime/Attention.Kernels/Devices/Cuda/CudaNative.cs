using System.Runtime.InteropServices;

namespace Attention.Kernels.Cuda;

/// <summary>
/// Thin bindings to the CUDA driver API (<c>libcuda.so.1</c>): only the entry points the backend uses, source-generated
/// marshalling (<c>[LibraryImport]</c>), handles as <see cref="nint"/>, device pointers as <see cref="ulong"/>. Every function
/// returns a <c>CUresult</c>; wrap calls in <c>CudaException.Check</c>. The library is resolved lazily by
/// <see cref="NativeLibraries"/>; call <see cref="CudaRuntime.EnsureDriver"/> before the first call.
/// </summary>
internal static unsafe partial class CudaNative
{
    private const string Lib = NativeLibraries.Cuda;

    // CUdevice_attribute
    public const int AttributeMaxThreadsPerBlock = 1;
    public const int AttributeMaxBlockDimX = 2;
    public const int AttributeMaxGridDimX = 5;
    public const int AttributeMaxSharedMemoryPerBlock = 8;
    public const int AttributeWarpSize = 10;
    public const int AttributeClockRate = 13;
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeMemoryClockRate = 36;
    public const int AttributeGlobalMemoryBusWidth = 37;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    public const int AttributeMaxSharedMemoryPerBlockOptin = 97;

    // CUfunction_attribute
    public const int FunctionAttributeMaxThreadsPerBlock = 0;
    public const int FunctionAttributeSharedSizeBytes = 1;
    public const int FunctionAttributeNumRegs = 4;
    public const int FunctionAttributeMaxDynamicSharedSizeBytes = 8;

    // CUjit_option
    public const int JitInfoLogBuffer = 3;
    public const int JitInfoLogBufferSizeBytes = 4;
    public const int JitErrorLogBuffer = 5;
    public const int JitErrorLogBufferSizeBytes = 6;
    public const int JitLogVerbose = 12;

    // CUstream_flags / CUevent_flags
    public const uint StreamNonBlocking = 0x1;
    public const uint EventDefault = 0x0;
    public const uint EventBlockingSync = 0x1;
    public const uint EventDisableTiming = 0x2;

    // CUresult values the bindings branch on (others become CudaException).
    public const int ErrorNotReady = 600;

    [LibraryImport(Lib)] public static partial int cuInit(uint flags);
    [LibraryImport(Lib)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(Lib)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(Lib)] public static partial int cuGetErrorString(int error, byte** message);

    [LibraryImport(Lib)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial int cuCtxSynchronize();
    [LibraryImport(Lib)] public static partial int cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Lib)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Lib)] public static partial int cuStreamDestroy_v2(nint stream);
    [LibraryImport(Lib)] public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(Lib)] public static partial int cuEventCreate(nint* @event, uint flags);
    [LibraryImport(Lib)] public static partial int cuEventDestroy_v2(nint @event);
    [LibraryImport(Lib)] public static partial int cuEventRecord(nint @event, nint stream);
    [LibraryImport(Lib)] public static partial int cuEventSynchronize(nint @event);
    [LibraryImport(Lib)] public static partial int cuEventQuery(nint @event);
    [LibraryImport(Lib)] public static partial int cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(Lib)] public static partial int cuMemAlloc_v2(ulong* pointer, nuint bytes);
    [LibraryImport(Lib)] public static partial int cuMemFree_v2(ulong pointer);
    [LibraryImport(Lib)] public static partial int cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);
    [LibraryImport(Lib)] public static partial int cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);
    [LibraryImport(Lib)] public static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemsetD16Async(ulong destination, ushort value, nuint count, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemsetD32_v2(ulong destination, uint value, nuint count);
    [LibraryImport(Lib)] public static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(Lib)] public static partial int cuModuleLoadDataEx(nint* module, void* image, uint optionCount, int* options, void** optionValues);
    [LibraryImport(Lib)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(Lib)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Lib)] public static partial int cuFuncGetAttribute(int* value, int attribute, nint function);
    [LibraryImport(Lib)] public static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Lib)]
    public static partial int cuLaunchKernel(
        nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, nint stream, void** kernelParams, void** extra);
}

/// <summary>
/// Thin bindings to NVRTC, the CUDA runtime compiler (<c>libnvrtc.so*</c>). Every function returns an <c>nvrtcResult</c>;
/// wrap calls in <c>CudaException.CheckNvrtc</c>. Call <see cref="CudaRuntime.EnsureNvrtc"/> first.
/// </summary>
internal static unsafe partial class NvrtcNative
{
    private const string Lib = NativeLibraries.Nvrtc;

    /// <summary>NVRTC_ERROR_COMPILATION: the source did not compile; the program log says why.</summary>
    public const int ErrorCompilation = 6;

    [LibraryImport(Lib)] public static partial byte* nvrtcGetErrorString(int result);
    [LibraryImport(Lib)] public static partial int nvrtcVersion(int* major, int* minor);
    [LibraryImport(Lib)] public static partial int nvrtcGetNumSupportedArchs(int* count);
    [LibraryImport(Lib)] public static partial int nvrtcGetSupportedArchs(int* archs);

    [LibraryImport(Lib)]
    public static partial int nvrtcCreateProgram(
        nint* program, byte* source, byte* name, int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(Lib)] public static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(Lib)] public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] public static partial int nvrtcGetPTXSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(Lib)] public static partial int nvrtcGetCUBINSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetCUBIN(nint program, byte* cubin);
    [LibraryImport(Lib)] public static partial int nvrtcDestroyProgram(nint* program);
}

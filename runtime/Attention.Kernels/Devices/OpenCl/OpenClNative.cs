using System.Runtime.InteropServices;

namespace Attention.Kernels.OpenCl;

/// <summary>
/// Thin bindings to the OpenCL ICD loader: only the entry points the backend uses, source-generated marshalling
/// (<c>[LibraryImport]</c>), handles as <see cref="nint"/>. The library is resolved lazily by <see cref="NativeLibraries"/>;
/// call <see cref="OpenClRuntime.EnsureLoaded"/> before the first call.
/// </summary>
internal static unsafe partial class OpenClNative
{
    private const string Lib = NativeLibraries.OpenCl;

    // cl_device_type
    public const ulong DeviceTypeCpu = 1 << 1;
    public const ulong DeviceTypeGpu = 1 << 2;
    public const ulong DeviceTypeAccelerator = 1 << 3;
    public const ulong DeviceTypeAll = 0xFFFFFFFF;

    // cl_platform_info
    public const uint PlatformVersion = 0x0901;
    public const uint PlatformName = 0x0902;

    // cl_device_info
    public const uint DeviceType = 0x1000;
    public const uint DeviceMaxComputeUnits = 0x1002;
    public const uint DeviceMaxWorkItemSizes = 0x1005;
    public const uint DeviceMaxWorkGroupSize = 0x1004;
    public const uint DeviceMaxMemAllocSize = 0x1010;
    public const uint DeviceGlobalMemSize = 0x101F;
    public const uint DeviceLocalMemSize = 0x1023;
    public const uint DeviceName = 0x102B;
    public const uint DeviceVersion = 0x102F;
    public const uint DriverVersion = 0x102D;

    // cl_command_queue_properties
    public const ulong QueueProfilingEnable = 1 << 1;

    // cl_mem_flags
    public const ulong MemReadWrite = 1 << 0;

    // cl_program_info / cl_program_build_info
    public const uint ProgramBinarySizes = 0x1165;
    public const uint ProgramBinaries = 0x1166;
    public const uint ProgramBuildLog = 0x1183;

    // cl_kernel_work_group_info
    public const uint KernelWorkGroupSize = 0x11B0;
    public const uint KernelLocalMemSize = 0x11B2;

    // cl_profiling_info
    public const uint ProfilingCommandStart = 0x1282;
    public const uint ProfilingCommandEnd = 0x1283;

    [LibraryImport(Lib)]
    public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);

    [LibraryImport(Lib)]
    public static partial int clGetPlatformInfo(nint platform, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    public static partial int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);

    [LibraryImport(Lib)]
    public static partial int clGetDeviceInfo(nint device, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    public static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint callback, nint userData, int* error);

    [LibraryImport(Lib)]
    public static partial int clReleaseContext(nint context);

    // Deprecated in 2.0 but exported by every ICD (1.2 drivers lack clCreateCommandQueueWithProperties).
    [LibraryImport(Lib)]
    public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* error);

    [LibraryImport(Lib)]
    public static partial int clReleaseCommandQueue(nint queue);

    [LibraryImport(Lib)]
    public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPtr, int* error);

    [LibraryImport(Lib)]
    public static partial int clReleaseMemObject(nint memory);

    [LibraryImport(Lib)]
    public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source,
        uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Lib)]
    public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination,
        uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Lib)]
    public static partial int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size,
        uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Lib)]
    public static partial int clFinish(nint queue);

    [LibraryImport(Lib)]
    public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* error);

    [LibraryImport(Lib)]
    public static partial nint clCreateProgramWithBinary(nint context, uint numDevices, nint* devices, nuint* lengths, byte** binaries,
        int* binaryStatus, int* error);

    [LibraryImport(Lib)]
    public static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint callback, nint userData);

    [LibraryImport(Lib)]
    public static partial int clGetProgramInfo(nint program, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    public static partial int clGetProgramBuildInfo(nint program, nint device, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    public static partial int clReleaseProgram(nint program);

    [LibraryImport(Lib)]
    public static partial nint clCreateKernel(nint program, byte* name, int* error);

    [LibraryImport(Lib)]
    public static partial int clReleaseKernel(nint kernel);

    [LibraryImport(Lib)]
    public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);

    [LibraryImport(Lib)]
    public static partial int clGetKernelWorkGroupInfo(nint kernel, nint device, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* globalOffset, nuint* globalSize,
        nuint* localSize, uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Lib)]
    public static partial int clWaitForEvents(uint numEvents, nint* events);

    [LibraryImport(Lib)]
    public static partial int clGetEventProfilingInfo(nint evt, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Lib)]
    public static partial int clReleaseEvent(nint evt);
}

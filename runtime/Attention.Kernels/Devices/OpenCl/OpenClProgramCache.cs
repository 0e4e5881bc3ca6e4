using System.Security.Cryptography;
using System.Text;
using static Attention.Kernels.OpenCl.OpenClNative;

namespace Attention.Kernels.OpenCl;

/// <summary>
/// Builds programs from device-C source (OpenCL prelude + source), and stores/loads program binaries in a
/// directory when the device has a <see cref="OpenClDevice.KernelCacheDirectory"/>. The file name hashes everything
/// that changes the binary: platform, device, driver version, build options and the full source.
/// </summary>
internal static unsafe class OpenClProgramCache
{
    /// <summary>Hex SHA-256 of a text (UTF-8).</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The text handed to the driver: the prelude, then the source with line numbers restarted so build logs point into it.</summary>
    public static string FullSource(string source) => DevicePrelude.OpenCl + "#line 1\n" + source;

    public static nint Build(OpenClDevice device, nint context, string source, string entryPoint, string options, out bool fromDisk)
    {
        string fullSource = FullSource(source);
        string? file = device.KernelCacheDirectory is { } dir
            ? Path.Combine(dir, Hash(string.Join('\n', device.Info.Platform, device.Info.Name, device.Info.Version, device.Info.DriverVersion, options, fullSource)) + ".clbin")
            : null;

        if (file is not null && TryLoadBinary(device, context, file, options) is { } loaded and not 0)
        {
            fromDisk = true;
            return loaded;
        }

        fromDisk = false;
        nint program = FromSource(context, fullSource);
        try
        {
            BuildOrThrow(device, program, options, entryPoint);
        }
        catch
        {
            clReleaseProgram(program);
            throw;
        }
        if (file is not null)
            TryStoreBinary(program, file);
        return program;
    }

    private static nint FromSource(nint context, string fullSource)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(fullSource);
        int error;
        nint program;
        fixed (byte* p = bytes)
        {
            byte* text = p;
            nuint length = (nuint)bytes.Length;
            program = clCreateProgramWithSource(context, 1, &text, &length, &error);
        }
        OpenClException.Check(error, "clCreateProgramWithSource");
        return program;
    }

    private static void BuildOrThrow(OpenClDevice device, nint program, string options, string entryPoint)
    {
        nint id = device.Info.DeviceId;
        int status;
        fixed (byte* o = OpenClRuntime.Utf8Z(options))
            status = clBuildProgram(program, 1, &id, o, 0, 0);
        if (status == 0)
            return;
        string log = BuildLog(program, id);
        if (status == -11 || log.Length > 0) // CL_BUILD_PROGRAM_FAILURE, or any failure that left a log
            throw new OpenClBuildException(status, entryPoint, options, log.Length > 0 ? log : "(the driver wrote no build log)", device.Name);
        throw new OpenClException(status, "clBuildProgram", $"Kernel '{entryPoint}' with options \"{options}\" on {device.Name}.");
    }

    private static string BuildLog(nint program, nint device)
    {
        nuint size = 0;
        if (clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != 0 || size == 0)
            return "";
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            if (clGetProgramBuildInfo(program, device, ProgramBuildLog, size, p, null) != 0)
                return "";
        }
        return OpenClRuntime.CString(bytes);
    }

    /// <summary>A built program from a cached binary, or 0 when there is none or the driver rejects it (then the source is built).</summary>
    private static nint TryLoadBinary(OpenClDevice device, nint context, string file, string options)
    {
        byte[] binary;
        try
        {
            if (!File.Exists(file))
                return 0;
            binary = File.ReadAllBytes(file);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
        if (binary.Length == 0)
            return 0;

        nint id = device.Info.DeviceId;
        int error, binaryStatus;
        nint program;
        fixed (byte* p = binary)
        {
            byte* b = p;
            nuint length = (nuint)binary.Length;
            program = clCreateProgramWithBinary(context, 1, &id, &length, &b, &binaryStatus, &error);
        }
        if (error != 0 || binaryStatus != 0)
        {
            if (program != 0)
                clReleaseProgram(program);
            return 0;
        }
        int status;
        fixed (byte* o = OpenClRuntime.Utf8Z(options))
            status = clBuildProgram(program, 1, &id, o, 0, 0);
        if (status != 0)
        {
            clReleaseProgram(program);
            return 0;
        }
        return program;
    }

    /// <summary>Writes the program's binary (atomically: temp file, then rename). A cache that cannot be written is not an error.</summary>
    private static void TryStoreBinary(nint program, string file)
    {
        nuint size = 0;
        if (clGetProgramInfo(program, ProgramBinarySizes, (nuint)sizeof(nuint), &size, null) != 0 || size == 0)
            return;
        var binary = new byte[(int)size];
        fixed (byte* p = binary)
        {
            byte* pointer = p;
            if (clGetProgramInfo(program, ProgramBinaries, (nuint)sizeof(nint), &pointer, null) != 0)
                return;
        }
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string temp = file + "." + Environment.ProcessId + "." + Environment.CurrentManagedThreadId + ".tmp";
            File.WriteAllBytes(temp, binary);
            File.Move(temp, file, overwrite: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

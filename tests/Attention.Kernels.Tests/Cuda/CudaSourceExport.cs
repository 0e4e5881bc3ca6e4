using Xunit;
using System.Reflection;

namespace Attention.Kernels.Tests.Cuda;

/// <summary>The hand-written smoke kernel shipped with the PTX check (tests/cuda/smoke_kernel.cu, copied next to the tests).</summary>
internal static class CudaSources
{
    private const string LineMarker = "#line 1\n";

    /// <summary>The portable kernel as checked in (tests/cuda/smoke_kernel.cu holds no prelude, like a generated <c>DeviceSource</c>).</summary>
    public static string SmokeKernelBody => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "cuda", "smoke_kernel.cu")).ReplaceLineEndings("\n");

    /// <summary>The whole CUDA file: <c>DevicePrelude.Cuda</c>, <c>#line 1</c>, the portable kernel.</summary>
    public static string SmokeKernelFile => CudaFile(SmokeKernelBody);

    /// <summary>What the exporter writes for one kernel: the CUDA prelude, <c>#line 1</c>, the device source.</summary>
    public static string CudaFile(string deviceSource) => DevicePrelude.Cuda + LineMarker + deviceSource;

    /// <summary>
    /// Every generated kernel class nested in <paramref name="declaringType"/> with a <c>public const string DeviceSource</c>:
    /// the <c>*Kernel</c> classes of single attention ops, or (<paramref name="anyName"/>) also the attention classes of a
    /// model graph (<c>{Method}Attention{n}</c>).
    /// </summary>
    public static IEnumerable<(string Name, string Source)> DeviceSources(Type declaringType, bool anyName = false)
    {
        foreach (var nested in declaringType.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (!anyName && !nested.Name.EndsWith("Kernel", StringComparison.Ordinal))
                continue;
            var field = nested.GetField("DeviceSource", BindingFlags.Public | BindingFlags.Static);
            if (field is { IsLiteral: true } && field.FieldType == typeof(string) && field.GetRawConstantValue() is string source)
                yield return (nested.Name, source);
        }
    }
}

/// <summary>
/// Writes every generated kernel's <c>DeviceSource</c> (CUDA prelude prepended) as .cu files into the folder named by
/// <c>AK_EXPORT_CUDA_DIR</c>, for tests/cuda-ptx-check.sh to compile with clang: the single attention kernels, the
/// attention kernels of the test model graphs (packed QKV), and the runtime's graph ops (DeviceOps.Source, every other
/// node kind). Skips when the variable is unset.
/// </summary>
public sealed class CudaSourceExportTests
{
    public const string ExportDirectoryVariable = "AK_EXPORT_CUDA_DIR";

    [Fact]
    public void Smoke_kernel_is_a_body_that_gets_the_runtime_cuda_prelude()
    {
        Assert.DoesNotContain("#define KERNEL", CudaSources.SmokeKernelBody, StringComparison.Ordinal);
        Assert.Contains("KERNEL void ak_smoke_causal_gqa(", CudaSources.SmokeKernelBody, StringComparison.Ordinal);
        Assert.StartsWith(DevicePrelude.Cuda + "#line 1\n", CudaSources.SmokeKernelFile, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Export_generated_device_sources_as_cu_files()
    {
        string? directory = Environment.GetEnvironmentVariable(ExportDirectoryVariable);
        Skip.If(string.IsNullOrWhiteSpace(directory), $"{ExportDirectoryVariable} is not set");
        Directory.CreateDirectory(directory!);
        // fp32 kernels, then the fp16/bf16 ones (their sources use the prelude's storage macros and PTX conversions).
        var sources = CudaSources.DeviceSources(typeof(TestKernels)).Concat(CudaSources.DeviceSources(typeof(Storage.StorageKernels))).ToList();
        foreach (var (name, source) in sources)
            File.WriteAllText(Path.Combine(directory!, name + ".cu"), CudaSources.CudaFile(source));
        var models = new[] { typeof(Graphs.TwoLayerEncoder), typeof(Graphs.Mixer) }
            .SelectMany(type => CudaSources.DeviceSources(type, anyName: true).Select(k => (Name: type.Name + "_" + k.Name, k.Source))).ToList();
        Assert.NotEmpty(models);
        foreach (var (name, source) in models)
            File.WriteAllText(Path.Combine(directory!, name + ".cu"), CudaSources.CudaFile(source));
        File.WriteAllText(Path.Combine(directory!, "graph_ops.cu"), CudaSources.CudaFile(DeviceOps.Source));
        // The smoke kernel travels along, so the folder always holds at least one real flash-attention kernel.
        File.WriteAllText(Path.Combine(directory!, "smoke_kernel.cu"), CudaSources.SmokeKernelFile);
        Skip.If(sources.Count == 0,
            $"wrote only smoke_kernel.cu to {directory}: no generated kernel class exposes DeviceSource yet (it arrives with the device-C emitter)");
        Assert.Equal(TestKernels.All.Length + Storage.StorageKernels.All.Length, sources.Count);
    }
}

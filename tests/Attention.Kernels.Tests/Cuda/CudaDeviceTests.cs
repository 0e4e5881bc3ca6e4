using Xunit;
using Attention.Kernels.Cuda;
using Attention.Kernels.Reference;

namespace Attention.Kernels.Tests.Cuda;

/// <summary>CUDA device tests: they need an NVIDIA GPU and skip (with the reason) everywhere else.</summary>
public sealed class CudaDeviceTests
{
    private const string Saxpy = """
        extern "C" __global__ void saxpy(float a, const float* x, float* y, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n)
                y[i] = a * x[i] + y[i];
        }
        """;

    [SkippableFact]
    public void Discovers_devices_with_sane_properties()
    {
        var device = CudaTestDevice.Require();
        var info = device.Info;
        Assert.NotEmpty(CudaDevice.Discover());
        Assert.False(string.IsNullOrWhiteSpace(info.Name));
        Assert.InRange(info.ComputeCapabilityMajor, 3, 20);
        Assert.True(info.Multiprocessors > 0);
        Assert.True(info.MaxThreadsPerBlock >= 256);
        Assert.True(info.SharedMemoryPerBlock >= 16 * 1024);
        Assert.True(info.TotalMemory > 256L << 20);
        Assert.True(CudaRuntime.DriverVersion >= 11000);
        Assert.Equal(DeviceKind.Cuda, device.Kind);
        var (free, total) = device.MemoryInfo();
        Assert.InRange(free, 1, total);
    }

    [SkippableFact]
    public void Allocate_copy_fill_round_trip()
    {
        var device = CudaTestDevice.Require();
        var data = Enumerable.Range(0, 10_007).Select(i => i * 0.5f - 7f).ToArray();
        using var buffer = device.Allocate(data.Length * sizeof(float));
        device.CopyFromHost<float>(data, buffer);
        var back = new float[data.Length];
        device.CopyToHost<float>(buffer, back);
        Assert.Equal(data, back);

        // Offsets: write 3 floats at element 100, read them back from there.
        device.CopyFromHost<float>([1f, 2f, 3f], buffer, 100 * sizeof(float));
        var three = new float[3];
        device.CopyToHost<float>(buffer, three, 100 * sizeof(float));
        Assert.Equal([1f, 2f, 3f], three);

        device.Fill(buffer, float.NaN);
        device.CopyToHost<float>(buffer, back);
        Assert.All(back, x => Assert.True(float.IsNaN(x)));

        using var halves = Tensor.FromArray<Half>(device, [(Half)1, (Half)2, (Half)3], 3);
        halves.Fill((Half)0.5f);
        Assert.All(halves.ToArray(), h => Assert.Equal((Half)0.5f, h));

        using var empty = device.Allocate(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.CopyFromHost<float>([1f], empty));
    }

    [SkippableFact]
    public void Nvrtc_compiles_a_kernel_that_launches_and_is_cached()
    {
        var device = CudaTestDevice.RequireCompiler();
        const int n = 100_003;
        var x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        var y = Enumerable.Range(0, n).Select(i => 1f).ToArray();
        using var xb = Tensor.FromArray<float>(device, x, n);
        using var yb = Tensor.FromArray<float>(device, y, n);

        var kernel = device.GetKernel(Saxpy, "saxpy");
        Assert.Same(kernel, device.GetKernel(Saxpy, "saxpy"));
        using var start = device.CreateEvent();
        using var end = device.CreateEvent();
        start.Record();
        device.Launch(kernel, new Dim3((n + 255) / 256), new Dim3(256), 0, null, 2f, xb.Buffer, yb.Buffer, n);
        end.Record();
        Assert.InRange(CudaEvent.ElapsedMilliseconds(start, end), 0f, 10_000f);

        var result = yb.ToArray();
        for (int i = 0; i < n; i++)
            Assert.Equal(2f * i + 1f, result[i]);

        int compilations = NvrtcCompiler.Compilations;
        device.GetKernel(Saxpy, "saxpy");
        Assert.Equal(compilations, NvrtcCompiler.Compilations);
    }

    [SkippableFact]
    public void Nvrtc_failure_carries_the_log_and_the_kernel_name()
    {
        var device = CudaTestDevice.RequireCompiler();
        const string broken = """extern "C" __global__ void broken_kernel(float* y) { y[0] = not_declared_anywhere; }""";
        var e = Assert.Throws<CudaException>(() => device.GetKernel(broken, "broken_kernel"));
        Assert.Equal(CudaErrorSource.Nvrtc, e.Library);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.ErrorName);
        Assert.Equal("broken_kernel", e.KernelName);
        Assert.Contains("not_declared_anywhere", e.Log);
        Assert.Contains("broken_kernel", e.Message);
        Assert.Contains("not_declared_anywhere", e.Message);
    }

    [SkippableFact]
    public void Unknown_entry_point_names_the_kernel()
    {
        var device = CudaTestDevice.RequireCompiler();
        var e = Assert.Throws<CudaException>(() => device.GetKernel(Saxpy, "no_such_kernel"));
        Assert.Equal("no_such_kernel", e.KernelName);
        Assert.Equal("CUDA_ERROR_NOT_FOUND", e.ErrorName);
    }

    [SkippableTheory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 97, 97)]
    [InlineData(1, 64, 200)]
    [InlineData(3, 129, 65)]
    public void Smoke_flash_kernel_matches_the_fp64_reference(int batch, int queryLength, int keyLength)
    {
        var device = CudaTestDevice.RequireCompiler();
        var p = new AttentionProblem(batch, queryLength, keyLength, 8, 2, 64, AttentionMask.Causal, 0, 0.125, TensorLayout.BTHD);
        var random = new Random(queryLength * 31 + keyLength);
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v);

        using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
        using var ot = Tensor.Create<float>(device, p.QueryShape);
        using var lt = Tensor.Create<float>(device, batch, 8, queryLength);
        ot.Fill(float.NaN);
        CudaAttentionLauncher.LaunchAttention(device, DevicePrelude.Cuda, CudaSources.SmokeKernelBody, "ak_smoke_causal_gqa",
            64, 8, qt, kt, vt, ot, lt, batch, queryLength, keyLength);
        var output = ot.ToArray();
        Assert.DoesNotContain(output, float.IsNaN);
        Assert.InRange(Accuracy.RelativeError(output, expected), 0, AttentionHarness.Tolerance);
        var lse = lt.ToArray();
        for (int i = 0; i < lse.Length; i++)
        {
            if (double.IsNegativeInfinity(expectedLse[i]))
                Assert.True(float.IsNegativeInfinity(lse[i]));
            else
                Assert.InRange(Math.Abs(lse[i] - expectedLse[i]) / Math.Max(1, Math.Abs(expectedLse[i])), 0, 1e-5);
        }
    }

    [SkippableFact]
    public void Out_of_memory_is_a_named_driver_error()
    {
        var device = CudaTestDevice.Require();
        var e = Assert.Throws<CudaException>(() => device.Allocate(device.Info.TotalMemory * 4));
        Assert.Equal(CudaErrorSource.Driver, e.Library);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", e.ErrorName);
        Assert.Equal("cuMemAlloc_v2", e.Function);
    }

    [SkippableFact]
    public void A_gpu_without_nvrtc_never_becomes_the_default()
    {
        CudaTestDevice.Require();
        bool hasNvrtc = true;
        try
        {
            CudaRuntime.EnsureNvrtc();
        }
        catch (DeviceUnavailableException)
        {
            hasNvrtc = false;
        }
        Skip.If(hasNvrtc, "NVRTC is present here");
        Skip.If(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Device.DeviceEnvironmentVariable)), "the default device is forced");
        using var chosen = DeviceRegistry.CreateDefault();
        Assert.NotEqual(DeviceKind.Cuda, chosen.Kind);
        var e = Assert.Throws<DeviceUnavailableException>(() => DeviceRegistry.Create(DeviceKind.Cuda));
        Assert.Contains("NVRTC", e.Message);
    }

    [SkippableFact]
    public void Cuda_wins_the_default_when_it_works()
    {
        CudaTestDevice.RequireCompiler();
        Skip.If(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Device.DeviceEnvironmentVariable)), "the default device is forced");
        Assert.Equal(DeviceKind.Cuda, Device.Default.Kind);
    }
}

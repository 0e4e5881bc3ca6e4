using Xunit;
using Attention.Kernels.Cuda;

namespace Attention.Kernels.Tests.Cuda;

/// <summary>The missing-library paths: these run on every machine.</summary>
public sealed class CudaUnavailableTests
{
    [Fact]
    public void Missing_nvrtc_gives_install_advice_not_DllNotFound()
    {
        var e = Assert.Throws<DeviceUnavailableException>(() => CudaRuntime.RequireLibrary(
            "nvrtc-test-missing", ["/nonexistent/libnvrtc.so.99"], "the runtime compiler (NVRTC)", CudaRuntime.NvrtcInstallAdvice));
        Assert.Equal(DeviceKind.Cuda, e.Kind);
        Assert.Contains("/nonexistent/libnvrtc.so.99", e.Message);
        Assert.Contains(NativeLibraries.NvrtcEnvironmentVariable, e.Message);
        Assert.Contains("nvidia-cuda-nvrtc", e.Message);
        Assert.Contains("CUDA toolkit", e.Message);
    }

    [Fact]
    public void Missing_driver_gives_install_advice_not_DllNotFound()
    {
        var e = Assert.Throws<DeviceUnavailableException>(() => CudaRuntime.RequireLibrary(
            "cuda-test-missing", ["libcuda-does-not-exist.so.1"], "driver", CudaRuntime.DriverInstallAdvice));
        Assert.Contains("libcuda-does-not-exist.so.1", e.Message);
        Assert.Contains("NVIDIA", e.Message);
        Assert.Contains("nvidia-smi", e.Message);
    }

    [Fact]
    public void Nvrtc_override_is_tried_first_then_the_usual_sonames()
    {
        var names = NativeLibraries.NvrtcCandidates("/opt/cuda/lib64/libnvrtc.so.12.4");
        Assert.Equal("/opt/cuda/lib64/libnvrtc.so.12.4", names[0]);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Contains("libnvrtc.so", names);
            Assert.Contains("libnvrtc.so.12", names);
            Assert.Contains("libnvrtc.so.11.2", names);
        }
        Assert.DoesNotContain("", NativeLibraries.NvrtcCandidates(null));
    }

    [SkippableFact]
    public void Without_a_driver_the_backend_is_unavailable_with_advice()
    {
        Skip.If(NativeLibraries.TryLoad(NativeLibraries.Cuda, out _), "this machine has libcuda");
        var e = Assert.Throws<DeviceUnavailableException>(() => CudaDevice.Discover());
        Assert.Contains("libcuda.so.1", e.Message);
        Assert.Contains("NVIDIA", e.Message);
        Assert.Throws<DeviceUnavailableException>(() => DeviceRegistry.Create(DeviceKind.Cuda));
    }

    [SkippableFact]
    public void Error_names_and_messages_come_from_the_tables_without_a_driver()
    {
        Assert.Equal("NVRTC_ERROR_COMPILATION", CudaException.NvrtcErrorName(6));
        Assert.Contains("log", CudaException.NvrtcErrorMessage(6));
        Skip.If(CudaRuntime.DriverLoaded, "names come from the driver here");
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", CudaException.DriverErrorName(2));
        Assert.Equal("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", CudaException.DriverErrorName(222));
        Assert.Equal("CUresult 12345", CudaException.DriverErrorName(12345));
    }

    [Theory]
    [InlineData(48 * 1024, 64, "-DBLOCK_K=32")]
    [InlineData(48 * 1024, 128, "-DBLOCK_K=16")]
    [InlineData(48 * 1024, 256, "-DBLOCK_K=8")]
    public void Key_block_fits_half_the_static_shared_memory(int shared, int headDim, string expected) =>
        Assert.Equal(expected, DeviceKernelLauncher.BuildOptions(shared, headDim));

    [Theory]
    [InlineData(1024, 1, 32u)]
    [InlineData(1024, 33, 64u)]
    [InlineData(1024, 1000, 64u)]
    [InlineData(40, 1000, 40u)]
    public void Query_rows_are_whole_warps_capped_by_the_kernel(int maxThreads, int queryLength, uint expected) =>
        Assert.Equal(expected, CudaAttentionLauncher.QueryRows(maxThreads, queryLength));
}

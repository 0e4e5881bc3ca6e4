using Attention.Kernels.OpenCl;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>What users see when things go wrong: named error codes, build logs with the kernel name, documented exceptions.</summary>
public sealed class OpenClFailureTests(ITestOutputHelper log)
{
    private static readonly KernelCase Sample = TestKernels.All.First(k => k.Name == "D64_H4_Kv2_Causal");

    [SkippableFact]
    public void Broken_kernel_source_throws_build_exception_with_log_and_kernel_name()
    {
        var device = OpenClTestDevice.GetOrSkip();
        const string source = """
            KERNEL void deliberately_broken(GLOBAL float* x)
            {
                x[LOCAL_ID(0)] = no_such_variable * 2.0f;
            }
            """;
        var e = Assert.Throws<OpenClBuildException>(() => device.GetKernel(source, "deliberately_broken"));
        log.WriteLine(e.Message);
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", e.ErrorName);
        Assert.Equal("deliberately_broken", e.KernelName);
        Assert.Contains("no_such_variable", e.BuildLog);
        Assert.Contains("deliberately_broken", e.Message);
        Assert.Contains("no_such_variable", e.Message); // the log is in the message, so it shows in any test or crash report
    }

    [SkippableFact]
    public void Bad_build_options_throw_a_named_error()
    {
        var device = OpenClTestDevice.GetOrSkip();
        var e = Assert.ThrowsAny<OpenClException>(() =>
            device.GetKernel(TestKernels.D64_H4_Kv2_CausalKernel.DeviceSource, TestKernels.D64_H4_Kv2_CausalKernel.DeviceEntryPoint, "-DBLOCK_K=32 --no-such-compiler-option"));
        log.WriteLine(e.Message);
        // Drivers differ: some reject the options up front, others fail the build and log why.
        Assert.Contains(e.ErrorName, new[] { "CL_INVALID_BUILD_OPTIONS", "CL_BUILD_PROGRAM_FAILURE", "CL_INVALID_COMPILER_OPTIONS" });
        Assert.Contains("--no-such-compiler-option", e.Message);
    }

    [SkippableFact]
    public void Unknown_entry_point_throws_invalid_kernel_name()
    {
        var device = OpenClTestDevice.GetOrSkip();
        var e = Assert.Throws<OpenClException>(() => device.GetKernel(TestKernels.D64_H4_Kv2_CausalKernel.DeviceSource, "no_such_kernel", "-DBLOCK_K=16"));
        Assert.Equal("CL_INVALID_KERNEL_NAME", e.ErrorName);
        Assert.Contains("no_such_kernel", e.Message);
    }

    [SkippableFact]
    public void Allocation_larger_than_the_device_allows_throws_invalid_buffer_size()
    {
        var device = OpenClTestDevice.GetOrSkip();
        long tooLarge = device.Info.MaxAllocationSize + 1;
        var e = Assert.Throws<OpenClException>(() => device.Allocate(tooLarge));
        Assert.Equal("CL_INVALID_BUFFER_SIZE", e.ErrorName);
        Assert.Contains(tooLarge.ToString(), e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Allocate(-1));
    }

    [SkippableFact]
    public void Tensors_of_another_device_are_rejected_by_name()
    {
        var device = OpenClTestDevice.GetOrSkip();
        using var q = Tensor.Create<float>(device, 1, 4, 4, 64);
        using var k = Tensor.Create<float>(Device.Cpu, 1, 4, 2, 64);
        using var v = Tensor.Create<float>(device, 1, 4, 2, 64);
        using var o = Tensor.Create<float>(device, 1, 4, 4, 64);
        var e = Assert.Throws<ArgumentException>(() => Sample.Run(q, k, v, o, null));
        Assert.Equal("k", e.ParamName);
    }

    [Fact]
    public void Error_codes_have_names()
    {
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", OpenClException.NameOf(-11));
        Assert.Equal("CL_OUT_OF_RESOURCES", OpenClException.NameOf(-5));
        Assert.Equal("CL_INVALID_WORK_GROUP_SIZE", OpenClException.NameOf(-54));
        Assert.Equal("CL_UNKNOWN_ERROR(-9999)", OpenClException.NameOf(-9999));
        var e = new OpenClException(-4, "clCreateBuffer");
        Assert.Contains("CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)", e.Message);
    }

    [Fact]
    public void A_missing_native_library_is_reported_not_thrown() =>
        Assert.False(NativeLibraries.TryLoad("attention-kernels-no-such-library", out _));
}

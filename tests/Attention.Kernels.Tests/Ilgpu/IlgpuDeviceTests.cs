using Attention.Kernels.Ilgpu;
using Attention.Kernels.Reference;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Xunit;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>The ILGPU device: selection by name, wrapping an application's accelerator, views without copies, fences, timing.</summary>
public sealed class IlgpuDeviceTests
{
    [Fact]
    public void The_generated_module_initializer_registered_the_accelerators()
    {
        // This test assembly references Attention.Kernels.Ilgpu, so the generator emitted a registration that ran at load.
        Assert.True(DeviceRegistry.IsRegistered(DeviceKind.IlgpuCpu));
        Assert.True(DeviceRegistry.IsRegistered(DeviceKind.Cuda));
        Assert.True(DeviceRegistry.IsRegistered(DeviceKind.OpenCl));
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, null)]
    [InlineData("ilgpu-cpu", DeviceKind.IlgpuCpu, null)]
    [InlineData("ILGPU-CPU:0", DeviceKind.IlgpuCpu, "0")]
    [InlineData("cuda:1", DeviceKind.Cuda, "1")]
    [InlineData(" opencl : Radeon ", DeviceKind.OpenCl, "Radeon")]
    public void Device_names_parse_to_kind_and_selector(string text, DeviceKind kind, string? selector)
    {
        Assert.Equal((kind, selector), DeviceRegistry.Parse(text));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("3")]
    [InlineData("")]
    public void Unknown_device_names_say_what_is_accepted(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceRegistry.Parse(text));
        Assert.Contains("cpu, cuda, opencl, ilgpu-cpu", error.Message);
        Assert.Equal(Device.DeviceEnvironmentVariable, error.ParamName);
    }

    [Fact]
    public void The_cpu_accelerator_is_created_by_kind_index_and_name_and_runs_on_the_host()
    {
        using var byKind = DeviceRegistry.Create(DeviceKind.IlgpuCpu);
        using var byIndex = DeviceRegistry.Create(DeviceKind.IlgpuCpu, "0");
        using var byName = DeviceRegistry.Create(DeviceKind.IlgpuCpu, byKind.Name[..3]);
        foreach (var device in new[] { byKind, byIndex, byName })
        {
            var ilgpu = Assert.IsType<IlgpuDevice>(device);
            Assert.Equal(DeviceKind.IlgpuCpu, ilgpu.Kind);
            Assert.True(ilgpu.RunsOnHost); // never the default device
            Assert.Equal(AcceleratorType.CPU, ilgpu.Accelerator.AcceleratorType);
        }
    }

    [Fact]
    public void A_device_that_does_not_exist_is_a_clear_error()
    {
        var error = Assert.Throws<DeviceUnavailableException>(() => DeviceRegistry.Create(DeviceKind.IlgpuCpu, "no such accelerator"));
        Assert.Contains("no such accelerator", error.Message);
        Assert.Equal(DeviceKind.IlgpuCpu, error.Kind);
    }

    [Fact]
    public void Cuda_is_either_a_device_or_a_clear_unavailable_error()
    {
        // No GPU on CI: the driver is missing, which must read as "unavailable", not as an ILGPU or loader exception.
        try
        {
            using var device = DeviceRegistry.Create(DeviceKind.Cuda);
            Assert.Equal(DeviceKind.Cuda, device.Kind);
        }
        catch (DeviceUnavailableException error)
        {
            Assert.Equal(DeviceKind.Cuda, error.Kind);
            Assert.Contains("Cuda", error.Message);
        }
    }

    [Fact]
    public void A_wrapped_accelerator_runs_kernels_and_stays_the_callers()
    {
        using var context = Context.Create(builder => builder.CPU(CPUDeviceKind.Nvidia).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        var kernel = TestKernels.All.First(k => k.Mask == AttentionMask.Causal && k.HeadDim == 17);
        using (var device = IlgpuDevice.Wrap(accelerator))
        {
            var random = new Random(AttentionHarness.RunSeed);
            var problem = new AttentionProblem(1, 21, 33, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
            var check = AttentionHarness.Run(kernel, problem, device, random);
            Assert.Null(check.Defect);
            Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        }
        // Disposing the device left the accelerator alone.
        using var buffer = accelerator.Allocate1D<float>(4);
        buffer.MemSetToZero();
        accelerator.Synchronize();
    }

    [Fact]
    public void A_tensor_view_is_the_tensors_memory_not_a_copy()
    {
        var device = IlgpuTestDevice.Instance;
        using var tensor = Tensor.FromArray<float>(device, [1f, 2f, 3f, 4f, 5f], 5);
        var view = tensor.View();
        Assert.Equal(5, view.Length);
        // The application's own ILGPU kernel writes through the view; the tensor sees it.
        var twice = device.Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>((i, v) => v[i] = 2f * v[i]);
        twice((int)view.Length, view);
        Assert.Equal([2f, 4f, 6f, 8f, 10f], tensor.ToArray());
        // A Tensor<Half> is viewed as ILGPU.Half (System.Half cannot be used inside kernels).
        using var half = Tensor.FromArray<System.Half>(device, [(System.Half)1.5f], 1);
        var halfView = half.View<System.Half, ILGPU.Half>();
        var copied = new ILGPU.Half[1];
        halfView.CopyToCPU(copied);
        Assert.Equal(1.5f, (float)copied[0]);
    }

    [Fact]
    public void Views_of_tensors_elsewhere_are_refused_naming_the_tensor()
    {
        using var cpu = Tensor.Create<float>(Device.Cpu, 3);
        var error = Assert.Throws<ArgumentException>(() => cpu.View());
        Assert.Contains("ILGPU device", error.Message);
    }

    [Fact]
    public void A_synchronization_fence_completes_only_after_the_device_synchronized()
    {
        var device = IlgpuTestDevice.Instance;
        var fence = device.RecordSynchronizationFence();
        Assert.False(fence.IsCompleted);
        device.Synchronize();
        Assert.True(fence.IsCompleted);
        var later = device.RecordSynchronizationFence();
        Assert.False(later.IsCompleted);
        later.Wait(); // synchronizes
        Assert.True(later.IsCompleted);
    }

    [Fact]
    public void The_pool_reuses_a_returned_block_for_the_same_size()
    {
        using var device = IlgpuDevice.Create(DeviceKind.IlgpuCpu); // its own pool: other tests run in parallel
        using (var first = Tensor.Create<float>(device, 1000))
            first.Fill(1f);
        long hits = device.Pool.Statistics.Hits;
        using var second = Tensor.Create<float>(device, 1000);
        Assert.Equal(hits + 1, device.Pool.Statistics.Hits);
    }

    [Fact]
    public void Device_time_of_a_launch_is_measured_on_the_device_queue()
    {
        var device = IlgpuTestDevice.Instance;
        var kernel = TestKernels.All.First(k => k.HeadDim == 64 && k.Mask == AttentionMask.None && !k.HasLogSumExp);
        var p = new AttentionProblem(1, 40, 40, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
        using var q = Tensor.FromArray<float>(device, RandomData.Uniform(new Random(1), p.QueryElements), p.QueryShape);
        using var k = Tensor.FromArray<float>(device, RandomData.Uniform(new Random(2), p.KeyElements), p.KeyShape);
        using var o = Tensor.Create<float>(device, p.QueryShape);
        kernel.Run(q, k, k, o, null); // compile outside the timing
        var time = device.Time(() => kernel.Run(q, k, k, o, null));
        Assert.True(time > TimeSpan.Zero && time < TimeSpan.FromMinutes(1), time.ToString());
    }
}

/// <summary>
/// ILGPU loads the OpenCL ICD loader as <c>libOpenCL.so</c>; Debian's runtime package ships only <c>libOpenCL.so.1</c>.
/// The backend resolves the name for ILGPU's assembly. CI installs ocl-icd-libopencl1 (no driver: no device, but the
/// loader must load) and sets AK_REQUIRE_OPENCL_LOADER=1; elsewhere the test needs the loader to be installed.
/// </summary>
public sealed class OpenClLoaderTests
{
    [SkippableFact]
    public void Ilgpus_OpenCL_import_resolves_to_the_system_loader()
    {
        bool installed = new[] { "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1", "/usr/lib64/libOpenCL.so.1", "/usr/lib/libOpenCL.so.1" }.Any(File.Exists);
        bool required = Environment.GetEnvironmentVariable("AK_REQUIRE_OPENCL_LOADER") == "1";
        Assert.True(installed || !required, "AK_REQUIRE_OPENCL_LOADER=1 but libOpenCL.so.1 is not installed (apt-get install ocl-icd-libopencl1).");
        Skip.IfNot(installed, "libOpenCL.so.1 is not installed (apt-get install ocl-icd-libopencl1)");

        _ = IlgpuBackend.Context; // installs the resolver
        Assert.True(System.Runtime.InteropServices.NativeLibrary.TryLoad("OpenCL", typeof(Context).Assembly, null, out var handle),
            "ILGPU's 'OpenCL' import did not resolve to libOpenCL.so.1");
        Assert.NotEqual(IntPtr.Zero, System.Runtime.InteropServices.NativeLibrary.GetExport(handle, "clGetPlatformIDs"));
        // With the loader and no driver, OpenCL is simply not a device, not an error.
        _ = IlgpuBackend.Devices(DeviceKind.OpenCl);
    }
}

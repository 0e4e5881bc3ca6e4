using Attention.Kernels.OpenCl;
using Xunit;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>Selection, the default-device rule, memory operations and the kernel caches.</summary>
public sealed class OpenClDeviceTests
{
    [SkippableFact]
    public void Devices_can_be_picked_by_index_type_and_name()
    {
        OpenClTestDevice.GetOrSkip();
        var all = OpenClDevice.Discover();
        Assert.NotEmpty(all);
        foreach (var info in all)
        {
            Assert.True(info.MaxWorkGroupSize >= 1 && info.LocalMemorySize > 0 && info.MaxAllocationSize > 0, info.ToString());
        }
        using (var first = OpenClDevice.Create(0))
            Assert.Equal(all[0], first.Info);
        using (var byName = OpenClDevice.Create(all[0].Name.ToUpperInvariant()))
            Assert.Equal(all[0].Name, byName.Info.Name);
        using (var byType = OpenClDevice.Create(all[0].Type.ToString()))
            Assert.Equal(all[0].Type, byType.Info.Type);
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenClDevice.Create(all.Count));
        var e = Assert.Throws<DeviceUnavailableException>(() => OpenClDevice.Create("no such device anywhere"));
        Assert.Contains(all[0].Name, e.Message); // the message lists what there is
    }

    [SkippableFact]
    public void An_OpenCl_cpu_driver_never_becomes_the_default_device()
    {
        OpenClTestDevice.GetOrSkip();
        Skip.If(!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Device.DeviceEnvironmentVariable)),
            $"{Device.DeviceEnvironmentVariable} forces the default device in this run.");
        using var chosen = DeviceRegistry.CreateDefault() is var d && ReferenceEquals(d, Device.Cpu) ? null : d;
        bool anyGpu = OpenClDevice.Discover().Any(i => i.Type == OpenClDeviceType.Gpu);
        if (anyGpu)
            Assert.True(chosen is OpenClDevice { RunsOnHost: false }, $"expected an OpenCL GPU, got {chosen}");
        else
            Assert.Null(chosen); // the CPU backend
        using var forced = DeviceRegistry.Create(DeviceKind.OpenCl);
        Assert.Equal(DeviceKind.OpenCl, forced.Kind);
    }

    [SkippableFact]
    public void Copies_and_fill_round_trip_at_offsets()
    {
        var device = OpenClTestDevice.GetOrSkip();
        using var buffer = device.Allocate(40);
        device.Fill(buffer, 1.5f);
        device.CopyFromHost<float>([7f, 8f], buffer, destinationOffsetBytes: 8);
        var back = new float[10];
        device.CopyToHost<float>(buffer, back);
        Assert.Equal([1.5f, 1.5f, 7f, 8f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f], back);
        var tail = new float[2];
        device.CopyToHost<float>(buffer, tail, sourceOffsetBytes: 12);
        Assert.Equal([8f, 1.5f], tail);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.CopyToHost<float>(buffer, new float[11]));
        using var empty = device.Allocate(0);
        Assert.Equal(0, empty.SizeInBytes);
    }

    [SkippableFact]
    public void Kernels_are_built_once_per_source_and_options()
    {
        // A device of its own: the shared one builds programs for tests running in parallel.
        using var device = OpenClDevice.Create(OpenClTestDevice.GetOrSkip().Info);
        const string source = "KERNEL void twice(GLOBAL float* x) { x[LOCAL_ID(0)] *= 2.0f; }";
        int before = device.ProgramsBuiltFromSource;
        var a = device.GetKernel(source, "twice");
        var b = device.GetKernel(source, "twice");
        Assert.Same(a, b);
        Assert.Equal(before + 1, device.ProgramsBuiltFromSource);
        var c = device.GetKernel(source, "twice", "-DUNUSED=1");
        Assert.NotSame(a, c);
        Assert.Equal(before + 2, device.ProgramsBuiltFromSource);

        using var buffer = device.Allocate(4 * sizeof(float));
        device.CopyFromHost<float>([1f, 2f, 3f, 4f], buffer);
        device.Launch(a, [4], [4], buffer);
        Assert.NotNull(device.LastKernelTime);
        var result = new float[4];
        device.CopyToHost<float>(buffer, result);
        Assert.Equal([2f, 4f, 6f, 8f], result);
    }

    [SkippableFact]
    public void Program_binaries_are_reused_from_the_disk_cache()
    {
        var info = OpenClTestDevice.GetOrSkip().Info;
        string dir = Path.Combine(Path.GetTempPath(), "ak-kernel-cache-" + Guid.NewGuid().ToString("N"));
        const string source = "KERNEL void add_one(GLOBAL float* x) { x[LOCAL_ID(0)] += 1.0f; }";
        try
        {
            using (var first = OpenClDevice.Create(info))
            {
                first.KernelCacheDirectory = dir;
                first.GetKernel(source, "add_one");
                Assert.Equal(1, first.ProgramsBuiltFromSource);
                Assert.Single(Directory.GetFiles(dir, "*.clbin"));
            }
            using var second = OpenClDevice.Create(info);
            second.KernelCacheDirectory = dir;
            var kernel = second.GetKernel(source, "add_one");
            Assert.Equal(0, second.ProgramsBuiltFromSource);
            Assert.Equal(1, second.ProgramsLoadedFromCache);

            using var buffer = second.Allocate(2 * sizeof(float));
            second.CopyFromHost<float>([1f, 2f], buffer);
            second.Launch(kernel, [2], [2], buffer);
            var result = new float[2];
            second.CopyToHost<float>(buffer, result);
            Assert.Equal([2f, 3f], result);
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Launch_geometry_respects_device_limits()
    {
        Assert.Equal("-DBLOCK_K=32", DeviceKernelLauncher.BuildOptions(2 << 20, 256));
        Assert.Equal("-DBLOCK_K=8", DeviceKernelLauncher.BuildOptions(48 << 10, 256)); // 2·8·256·4 = 16 KiB ≤ 24 KiB
        Assert.Equal("-DBLOCK_K=1", DeviceKernelLauncher.BuildOptions(1024, 256));
        Assert.Equal(64, DeviceKernelLauncher.QueryRows(1024, 1024, 1000));
        Assert.Equal(16, DeviceKernelLauncher.QueryRows(16, 1024, 1000)); // the kernel's own limit
        Assert.Equal(8, DeviceKernelLauncher.QueryRows(1024, 1024, 5)); // short queries: a small group
        Assert.Equal(1, DeviceKernelLauncher.QueryRows(1024, 1024, 1));
    }
}

using Xunit;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// <see cref="Device.Time"/> on an ILGPU device: it brackets the work with stream profiling markers, which ILGPU only
/// creates when the context has profiling enabled (without it, every call threw NotSupportedException).
/// </summary>
public sealed class IlgpuTimingTests
{
    [Fact]
    public void Time_measures_work_on_the_accelerator()
    {
        var device = IlgpuTestDevice.Instance;
        using var buffer = Tensor.Create<float>(device, 4096);
        buffer.Fill(0f); // compile the fill kernel outside the timed region
        var elapsed = device.Time(() => buffer.Fill(1f));
        Assert.True(elapsed >= TimeSpan.Zero && elapsed < TimeSpan.FromMinutes(1), $"elapsed {elapsed}");
        Assert.All(buffer.ToArray(), value => Assert.Equal(1f, value));
    }
}

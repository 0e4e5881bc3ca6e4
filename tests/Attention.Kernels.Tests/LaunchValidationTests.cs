using Xunit;

namespace Attention.Kernels.Tests;

/// <summary>Shape mistakes only the runtime can see throw an ArgumentException naming the tensor and both shapes.</summary>
public sealed class LaunchValidationTests
{
    private static readonly KernelCase Gqa = TestKernels.All.First(k => k.Name == nameof(TestKernels.D64_H8_Kv4_Causal_Lse_S));

    private static ArgumentException Launch(int[] q, int[] k, int[] v, int[] output, int[]? lse = null)
    {
        using var qt = Tensor.Create<float>(Device.Cpu, q);
        using var kt = Tensor.Create<float>(Device.Cpu, k);
        using var vt = Tensor.Create<float>(Device.Cpu, v);
        using var ot = Tensor.Create<float>(Device.Cpu, output);
        using var lt = Tensor.Create<float>(Device.Cpu, lse ?? [2, 8, 10]);
        return Assert.ThrowsAny<ArgumentException>(() => Gqa.Run(qt, kt, vt, ot, lt));
    }

    [Fact]
    public void Wrong_head_count_names_the_tensor_and_both_shapes()
    {
        var error = Launch([2, 10, 8, 64], [2, 7, 2, 64], [2, 7, 4, 64], [2, 10, 8, 64]);
        Assert.Equal("k", error.ParamName);
        Assert.Contains("[B, Tk, KvH=4, D=64] = [2, 7, 4, 64]", error.Message);
        Assert.Contains("but has [2, 7, 2, 64]", error.Message);
    }

    [Fact]
    public void Value_length_must_match_key_length()
    {
        var error = Launch([2, 10, 8, 64], [2, 7, 4, 64], [2, 9, 4, 64], [2, 10, 8, 64]);
        Assert.Equal("v", error.ParamName);
        Assert.Contains("[2, 9, 4, 64]", error.Message);
    }

    [Fact]
    public void Output_must_match_query()
    {
        var error = Launch([2, 10, 8, 64], [2, 7, 4, 64], [2, 7, 4, 64], [2, 11, 8, 64]);
        Assert.Equal("output", error.ParamName);
    }

    [Fact]
    public void Log_sum_exp_shape_is_checked()
    {
        var error = Launch([2, 10, 8, 64], [2, 7, 4, 64], [2, 7, 4, 64], [2, 10, 8, 64], [2, 10, 8]);
        Assert.Equal("logSumExp", error.ParamName);
        Assert.Contains("[B, H=8, Tq]", error.Message);
    }

    [Fact]
    public void Wrong_rank_is_reported_with_the_expected_axes()
    {
        var error = Launch([2, 10, 512], [2, 7, 4, 64], [2, 7, 4, 64], [2, 10, 8, 64]);
        Assert.Equal("q", error.ParamName);
        Assert.Contains("4 axes", error.Message);
    }

    [Theory]
    [InlineData("q")]
    [InlineData("k")]
    [InlineData("v")]
    [InlineData("output")]
    [InlineData("logSumExp")]
    public void Disposed_tensor_error_names_the_argument_and_its_shape_not_the_pool(string disposed)
    {
        using var q = Tensor.Create<float>(Device.Cpu, 2, 10, 8, 64);
        using var k = Tensor.Create<float>(Device.Cpu, 2, 7, 4, 64);
        using var v = Tensor.Create<float>(Device.Cpu, 2, 7, 4, 64);
        using var o = Tensor.Create<float>(Device.Cpu, 2, 10, 8, 64);
        using var lse = Tensor.Create<float>(Device.Cpu, 2, 8, 10);
        var byName = new Dictionary<string, Tensor<float>> { ["q"] = q, ["k"] = k, ["v"] = v, ["output"] = o, ["logSumExp"] = lse };
        byName[disposed].Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => Gqa.Run(q, k, v, o, lse));
        Assert.Equal(disposed, error.ObjectName);
        Assert.Contains($"Tensor '{disposed}'", error.Message);
        Assert.Contains(TensorShape.Format(byName[disposed].Shape), error.Message);
        Assert.DoesNotContain("Pool block", error.Message);
        Assert.DoesNotContain("rent #", error.Message);
    }

    [Fact]
    public void Valid_shapes_with_empty_keys_give_zeros()
    {
        using var q = Tensor.FromArray<float>(Device.Cpu, Enumerable.Repeat(1f, 3 * 8 * 64).ToArray(), 1, 3, 8, 64);
        using var k = Tensor.Create<float>(Device.Cpu, 1, 0, 4, 64);
        using var v = Tensor.Create<float>(Device.Cpu, 1, 0, 4, 64);
        using var o = Tensor.Create<float>(Device.Cpu, 1, 3, 8, 64);
        using var lse = Tensor.Create<float>(Device.Cpu, 1, 8, 3);
        o.Fill(float.NaN);
        Gqa.Run(q, k, v, o, lse);
        Assert.All(o.ToArray(), x => Assert.Equal(0f, x));
        Assert.All(lse.ToArray(), x => Assert.Equal(float.NegativeInfinity, x));
    }
}

public sealed class TensorTests
{
    [Fact]
    public void Round_trip_and_strides()
    {
        float[] data = Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray();
        using var t = Tensor.FromArray<float>(Device.Cpu, data, 2, 3, 4);
        Assert.Equal(new long[] { 12, 4, 1 }, t.Strides.ToArray());
        Assert.Equal(data, t.ToArray());
        Assert.Equal(24, t.Length);
    }

    [Fact]
    public void Wrong_source_length_names_both_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.FromArray<float>(Device.Cpu, new float[5], 2, 3));
        Assert.Contains("5 elements", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void Negative_axis_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Create<float>(Device.Cpu, 2, -1));

    [Fact]
    public void Use_after_dispose_throws()
    {
        var t = Tensor.Create<float>(Device.Cpu, 4);
        t.Dispose();
        Assert.True(t.IsDisposed);
        var error = Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        Assert.Contains("Tensor<Single>[4]", error.Message);
        Assert.DoesNotContain("Pool block", error.Message);
    }

    [Fact]
    public void Overflowing_shape_is_an_argument_exception_naming_the_shape()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Create<float>(Device.Cpu, int.MaxValue, int.MaxValue, int.MaxValue));
        Assert.Equal("shape", error.ParamName);
        Assert.Contains("[2147483647, 2147483647, 2147483647]", error.Message);
        Assert.IsType<OverflowException>(error.InnerException);
    }
}

/// <summary>
/// The log-sum-exp contract, the same on every backend: a kernel declared with <c>logSumExp</c> always writes it, so the
/// tensor is required (null throws, naming it); a kernel declared without it has no such parameter, not even in its
/// generated <c>Launch</c>. (Before, null crashed the process on OpenCL, and an extra tensor was filled on the CPU only.)
/// </summary>
public sealed class LogSumExpContractTests
{
    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu-cpu"]];

    private static Device On(string name) => name == "cpu" ? Device.Cpu : Ilgpu.IlgpuTestDevice.Instance;

    [Theory]
    [MemberData(nameof(Devices))]
    public void A_declared_log_sum_exp_is_required_on_every_backend(string deviceName)
    {
        var device = On(deviceName);
        using var q = Tensor.Create<float>(device, 1, 5, 8, 16);
        using var kv = Tensor.Create<float>(device, 1, 7, 1, 16);
        using var o = Tensor.Create<float>(device, 1, 5, 8, 16);
        q.Fill(0.5f);
        kv.Fill(0.25f);
        var error = Assert.Throws<ArgumentNullException>(() => TestKernels.D16_H8_Kv1_Causal_Lse(q, kv, kv, o, null!));
        Assert.Equal("logSumExp", error.ParamName);
    }

    [Fact]
    public void A_kernel_declared_without_log_sum_exp_has_no_such_parameter()
    {
        var withLse = typeof(TestKernels.D16_H8_Kv1_Causal_LseKernel).GetMethod("Launch")!.GetParameters();
        var without = typeof(TestKernels.D64_H4_Kv4_NoneKernel).GetMethod("Launch")!.GetParameters();
        Assert.Equal(["q", "k", "v", "output", "logSumExp"], withLse.Select(p => p.Name));
        Assert.Equal(["q", "k", "v", "output"], without.Select(p => p.Name));
    }
}

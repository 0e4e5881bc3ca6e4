using System.Runtime.Intrinsics;
using Attention.Kernels.Cpu;
using Xunit;

namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// The vectorized tanh the CPU soft-capping uses, against Math.Tanh in fp64, at both vector widths (each runs in software
/// where the hardware lacks it, and under DOTNET_EnableHWIntrinsic=0).
/// </summary>
public sealed unsafe class SimdTanhTests
{
    private const double RelativeTolerance = 1e-6;

    /// <summary>±0, denormals, the 0.625 branch point, up to ±1e30 and ±∞, plus random magnitudes spread over every exponent.</summary>
    private static float[] Inputs()
    {
        var values = new List<float> { 0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, 1e-30f, 1e-8f, 0.1f, 0.5f,
            3.9999e-4f, 4e-4f, 4.0001e-4f, 0.62499994f, 0.625f, 0.62500006f, 7.9f, 7.9053111f, 7.95f, 8.9999f, 9f, 1f, 2f, 8.9f, 9.1f, 20f, 44f, 100f, 1e4f, 1e30f, float.MaxValue,
            float.PositiveInfinity };
        var random = new Random(AttentionHarness.RunSeed);
        for (int i = 0; i < 20000; i++)
            values.Add((float)Math.Pow(10, random.NextDouble() * 12 - 8)); // 1e-8 .. 1e4
        for (int i = 0; i < 20000; i++)
            values.Add((float)(random.NextDouble() * 4)); // dense over both branches
        return [.. values, .. values.Select(v => -v)];
    }

    private static float[] Run(float[] x, bool wide)
    {
        int w = wide ? Vector512<float>.Count : Vector256<float>.Count;
        int n = (x.Length + w - 1) / w * w;
        var input = new float[n];
        var output = new float[n];
        x.CopyTo(input, 0);
        fixed (float* pi = input, po = output)
            for (int i = 0; i < n; i += w)
            {
                if (wide)
                    Simd.Store(Simd.Tanh(Simd.Load<Vector512<float>>(pi + i)), po + i);
                else
                    Simd.Store(Simd.Tanh(Simd.Load<Vector256<float>>(pi + i)), po + i);
            }
        return output[..x.Length];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Matches_Math_Tanh_to_1e_6_relative_over_all_magnitudes(bool wide)
    {
        float[] x = Inputs();
        float[] y = Run(x, wide);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Tanh(x[i]);
            double error = exact == 0 ? Math.Abs(y[i]) : Math.Abs(y[i] - exact) / Math.Abs(exact);
            if (!(error <= worst))
            {
                worst = error;
                worstAt = x[i];
            }
        }
        Assert.True(worst <= RelativeTolerance, $"worst relative error {worst:E3} at x = {worstAt:R}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keeps_the_sign_of_zero_saturates_at_infinity_and_passes_NaN(bool wide)
    {
        float[] y = Run([0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN, 1e30f, -1e30f], wide);
        Assert.Equal(0f, y[0]);
        Assert.False(float.IsNegative(y[0]));
        Assert.Equal(0f, y[1]);
        Assert.True(float.IsNegative(y[1]), "tanh(−0) must be −0");
        Assert.Equal(1f, y[2]);
        Assert.Equal(-1f, y[3]);
        Assert.True(float.IsNaN(y[4]));
        Assert.True(float.IsNaN(y[5]));
        Assert.Equal(1f, y[6]);
        Assert.Equal(-1f, y[7]);
    }
}

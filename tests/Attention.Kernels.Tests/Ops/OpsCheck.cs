using Attention.Kernels.Reference;
using Xunit;

namespace Attention.Kernels.Tests.Ops;

/// <summary>Shared pieces of the CpuOps tests: poisoned outputs, random sizes, the fp64 comparison.</summary>
internal static class OpsCheck
{
    public const double Tolerance = 1e-5;

    /// <summary>A fresh output buffer full of NaN, so an element the op forgets to write fails the check.</summary>
    public static float[] Poisoned(int count)
    {
        var data = new float[count];
        Array.Fill(data, float.NaN);
        return data;
    }

    /// <summary>Seeds of one test's cases: different every run (AK_TEST_SEED pins them), printed on failure.</summary>
    public static IEnumerable<object[]> Seeds(int count, int salt) =>
        Enumerable.Range(0, count).Select(i => new object[] { AttentionHarness.RunSeed + 7919 * salt + i });

    /// <summary>A size in [1, max]: often a small or awkward one (1, primes, around vector widths).</summary>
    public static int Size(Random random, int max)
    {
        int[] awkward = [1, 2, 3, 7, 13, 15, 16, 17, 31, 33, 47, 48, 49, 97, 127, 251, 257, 293];
        if (random.Next(3) == 0)
        {
            var fits = awkward.Where(v => v <= max).ToArray();
            return fits[random.Next(fits.Length)];
        }
        return random.Next(1, max + 1);
    }

    public static void Close(ReadOnlySpan<float> actual, double[] expected, string what)
    {
        for (int i = 0; i < actual.Length; i++)
            Assert.False(float.IsNaN(actual[i]), $"{what}: NaN at {i} (not written?)");
        double error = Accuracy.RelativeError(actual, expected);
        Assert.True(error <= Tolerance, $"{what}: relative error {error:E2} > {Tolerance:E0}");
    }
}

/// <summary>The learned parameters of one attention-pooling level (scores from u, or u·tanh(W x + b) when Hidden &gt; 0), random for tests.</summary>
internal sealed record PoolingLevel(float[] U, float[]? W, float[]? B, int Hidden)
{
    public static PoolingLevel Random(Random random, int features)
    {
        int hidden = random.Next(3) == 0 ? 0 : OpsCheck.Size(random, 40);
        return new PoolingLevel(
            RandomData.Uniform(random, hidden == 0 ? features : hidden, 2f / MathF.Sqrt(hidden == 0 ? features : hidden)),
            hidden == 0 ? null : RandomData.Uniform(random, hidden * features, 2f / MathF.Sqrt(features)),
            hidden == 0 || random.Next(2) == 0 ? null : RandomData.Uniform(random, hidden),
            hidden);
    }
}

using Attention.Kernels.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Storage;

/// <summary>
/// fp16 decode rows (Tq ≤ RowModeMaxQueries, head dim a whole number of vector pairs) first run with the cheap widening
/// that leaves out 2^112 and turns ∞/NaN into finite values (CpuElements.LoadHalfPairsScaled); a work item that meets an
/// fp16 ∞ or NaN in K or V, or a query too large to carry 2^112, is redone with the exact widening. The two must give the
/// same bits wherever both apply, and the specials must come out as the exact widening makes them.
/// </summary>
public sealed partial class Fp16DecodeWideningTests(ITestOutputHelper log)
{
    [ScaledDotProductAttention(HeadDim = 64, Heads = 4, KvHeads = 4)]
    internal static partial void Half_D64_H4(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    // Scale 1: a query entry of 60000 becomes 60000·log2(e) ≈ 86600 in the kernel, whose 2^112 multiple is past float's range.
    [ScaledDotProductAttention(HeadDim = 32, Heads = 2, KvHeads = 2, Scale = 1f)]
    internal static partial void Half_D32_H2_Scale1(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    private const int Batch = 2, Heads = 4, HeadDim = 64;

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)] // thousands of keys: each row split into parts, the special in one of them
    public void Infinity_in_V_and_NaN_in_K_redo_their_item_exactly_and_every_other_value_keeps_its_bits(int queries, bool longRows)
    {
        var random = new Random(AttentionHarness.RunSeed + queries);
        int keys = longRows ? 2049 + 2 * random.Next(0, 1500) : 3 + 2 * random.Next(150, 400); // odd
        var p = new AttentionProblem(Batch, queries, keys, Heads, Heads, HeadDim, AttentionMask.None, 0,
            1 / Math.Sqrt(HeadDim), TensorLayout.BTHD);
        Half[] q = Narrow(RandomData.Uniform(random, p.QueryElements, 2f));
        Half[] k = Narrow(RandomData.Uniform(random, p.KeyElements, 2f));
        Half[] v = Narrow(RandomData.Uniform(random, p.KeyElements));

        // Without specials every item takes the cheap widening; it must match the fp64 reference like any fp16 kernel.
        float[] plain = Run(D64, p, q, k, v);
        AssertMatchesReference(p, q, k, v, plain);

        // +∞ in V at (batch 1, key j, head 0, dim 5): that output dim becomes +∞, and the head's other dims (computed by the
        // exact widening now) keep the cheap widening's bits, as does every other head of both batch entries.
        int key = random.Next(keys), infDim = 5;
        Half[] vInf = (Half[])v.Clone();
        vInf[p.Index(1, key, 0, infDim, Heads, keys)] = Half.PositiveInfinity;
        float[] withInf = Run(D64, p, q, k, vInf);
        // NaN in K at (batch 0, key j, head 2): that head's output is all NaN; everything else keeps its bits.
        Half[] kNaN = (Half[])k.Clone();
        kNaN[p.Index(0, key, 2, 7, Heads, keys)] = Half.NaN;
        float[] withNaN = Run(D64, p, q, kNaN, v);

        for (int b = 0; b < Batch; b++)
            for (int i = 0; i < queries; i++)
                for (int h = 0; h < Heads; h++)
                    for (int d = 0; d < HeadDim; d++)
                    {
                        long at = p.Index(b, i, h, d, Heads, queries);
                        string where = $"output[{b},{i},{h},{d}]";
                        if (b == 1 && h == 0 && d == infDim)
                            Assert.True(float.IsPositiveInfinity(withInf[at]), $"{where} with +∞ in V: {withInf[at]}");
                        else
                            Assert.True(Bits(plain[at]) == Bits(withInf[at]), $"{where} with +∞ in V: {withInf[at]}, without {plain[at]}");
                        if (b == 0 && h == 2)
                            Assert.True(float.IsNaN(withNaN[at]), $"{where} with NaN in K: {withNaN[at]}");
                        else
                            Assert.True(Bits(plain[at]) == Bits(withNaN[at]), $"{where} with NaN in K: {withNaN[at]}, without {plain[at]}");
                    }
    }

    [Fact]
    public void A_query_too_large_for_the_cheap_widening_is_computed_exactly()
    {
        var random = new Random(AttentionHarness.RunSeed);
        int keys = 2 * random.Next(100, 300) + 1;
        var p = new AttentionProblem(1, 1, keys, 2, 2, 32, AttentionMask.None, 0, 1.0, TensorLayout.BTHD);
        // Query entries of magnitude 60000 against keys of magnitude ≤ 2^-14 (fp16 subnormals): scores up to ~170, a peaked softmax.
        Half[] q = Narrow(RandomData.Uniform(random, p.QueryElements).Select(x => x < 0 ? -60000f : 60000f).ToArray());
        Half[] k = Narrow(RandomData.Uniform(random, p.KeyElements, 1f / 16384));
        Half[] v = Narrow(RandomData.Uniform(random, p.KeyElements));
        AssertMatchesReference(p, q, k, v, Run(D32Scale1, p, q, k, v));
    }

    /// <summary>The output against the fp64 reference from the same fp16 inputs, within the fp16 storage bound (see StorageKernelCase.Tolerance).</summary>
    private void AssertMatchesReference(AttentionProblem p, Half[] q, Half[] k, Half[] v, float[] output)
    {
        var (expected, expectedLse) = ReferenceAttention.Compute(p, Widen(q), Widen(k), Widen(v));
        var check = AttentionHarness.Evaluate(p, output, null, expected, expectedLse);
        log.WriteLine(check.ToString());
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= Math.ScaleB(1, -11) * (1 + 1e-5) + 2e-5, check.ToString());
    }

    private static readonly StorageRunner<Half> D64 = (q, k, v, o, _) => Half_D64_H4(q, k, v, o);
    private static readonly StorageRunner<Half> D32Scale1 = (q, k, v, o, _) => Half_D32_H2_Scale1(q, k, v, o);

    private static float[] Run(StorageRunner<Half> kernel, AttentionProblem p, Half[] q, Half[] k, Half[] v)
    {
        using var qt = Tensor.FromArray(Device.Cpu, q, p.QueryShape);
        using var kt = Tensor.FromArray(Device.Cpu, k, p.KeyShape);
        using var vt = Tensor.FromArray(Device.Cpu, v, p.KeyShape);
        using var ot = Tensor.Create<Half>(Device.Cpu, p.QueryShape);
        ot.Fill(Half.NaN);
        kernel(qt, kt, vt, ot, null);
        return Widen(ot.ToArray());
    }

    private static Half[] Narrow(float[] values) => values.Select(x => (Half)x).ToArray();

    private static float[] Widen(Half[] values) => values.Select(x => (float)x).ToArray();

    private static uint Bits(float value) => BitConverter.SingleToUInt32Bits(value);
}

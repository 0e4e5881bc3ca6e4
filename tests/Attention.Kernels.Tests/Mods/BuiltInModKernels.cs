namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// Kernels with the built-in score modifiers (attribute properties, no user code): ALiBi with Press's slopes (6 heads: the
/// non-power-of-two rule), soft-capping, and both composed with a user ScoreMod and MaskMod. Their fp64 versions are below;
/// <see cref="ModKernels.All"/> lists them with the others, so every modifier test runs them on the CPU and on ILGPU.
/// </summary>
public static partial class ModKernels
{
    [ScaledDotProductAttention(HeadDim = 16, Heads = 6, KvHeads = 3, Mask = AttentionMask.Causal, Alibi = true)]
    public static partial void AlibiBuiltIn(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    [ScaledDotProductAttention(HeadDim = 24, Heads = 2, SoftCap = 1.5)]
    public static partial void SoftCapBuiltIn(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    // Order: the user's ScoreMod, then ALiBi, then the cap; the MaskMod hides every seventh key.
    [ScaledDotProductAttention(HeadDim = 8, Heads = 4, Mask = AttentionMask.CausalTopLeft, Layout = TensorLayout.BHTD,
        ScoreMod = nameof(Halve), MaskMod = nameof(NotSeventh), Alibi = true, SoftCap = 3)]
    public static partial void AlibiSoftCapComposed(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    private static float Halve(float score, int batch, int head, int query, int key) => 0.5f * score + 0.25f;

    private static bool NotSeventh(int batch, int head, int query, int key) => key % 7 != 6;

    /// <summary>Press et al.'s get_slopes in fp64, written as their lists: powers of two, else the next power's every other slope.</summary>
    internal static double[] PressSlopes(int heads)
    {
        static double[] PowerOfTwo(int n) => [.. Enumerable.Range(0, n).Select(i => Math.Pow(2, -8.0 / n * (i + 1)))];
        int closest = 1 << (int)Math.Floor(Math.Log2(heads));
        if (closest == heads)
            return PowerOfTwo(heads);
        return [.. PowerOfTwo(closest), .. PowerOfTwo(2 * closest).Where((_, i) => i % 2 == 0).Take(heads - closest)];
    }

    private static readonly double[] s_slopes6 = PressSlopes(6), s_slopes4 = PressSlopes(4);

    internal static readonly KernelCase[] BuiltIns =
    [
        new(nameof(AlibiBuiltIn), AlibiBuiltInKernel.HeadDim, AlibiBuiltInKernel.Heads, AlibiBuiltInKernel.KvHeads, AlibiBuiltInKernel.Mask,
            AlibiBuiltInKernel.Window, AlibiBuiltInKernel.Scale, AlibiBuiltInKernel.Layout, true, (q, k, v, o, l) => AlibiBuiltIn(q, k, v, o, l!), AlibiBuiltInKernel.Cost)
        { ScoreMod = (s, b, h, i, j) => s + s_slopes6[h] * (j - i) },
        new(nameof(SoftCapBuiltIn), SoftCapBuiltInKernel.HeadDim, SoftCapBuiltInKernel.Heads, SoftCapBuiltInKernel.KvHeads, SoftCapBuiltInKernel.Mask,
            SoftCapBuiltInKernel.Window, SoftCapBuiltInKernel.Scale, SoftCapBuiltInKernel.Layout, true, (q, k, v, o, l) => SoftCapBuiltIn(q, k, v, o, l!), SoftCapBuiltInKernel.Cost)
        { ScoreMod = (s, b, h, i, j) => 1.5 * Math.Tanh(s / 1.5) },
        new(nameof(AlibiSoftCapComposed), AlibiSoftCapComposedKernel.HeadDim, AlibiSoftCapComposedKernel.Heads, AlibiSoftCapComposedKernel.KvHeads,
            AlibiSoftCapComposedKernel.Mask, AlibiSoftCapComposedKernel.Window, AlibiSoftCapComposedKernel.Scale, AlibiSoftCapComposedKernel.Layout, true,
            (q, k, v, o, l) => AlibiSoftCapComposed(q, k, v, o, l!), AlibiSoftCapComposedKernel.Cost)
        {
            ScoreMod = (s, b, h, i, j) => 3 * Math.Tanh((0.5 * s + 0.25 + s_slopes4[h] * (j - i)) / 3),
            MaskMod = NotSeventh,
        },
    ];
}

namespace Attention.Kernels.Tests;

/// <summary>Runs a declared kernel: (q, k, v, output, logSumExp or null).</summary>
public delegate void KernelRunner(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float>? logSumExp);

/// <summary>A declared attention kernel and its compile-time constants.</summary>
public sealed record KernelCase(
    string Name, int HeadDim, int Heads, int KvHeads, AttentionMask Mask, int Window, float Scale, TensorLayout Layout,
    bool HasLogSumExp, KernelRunner Run, Func<int, int, int, KernelCost> Cost)
{
    /// <summary>The declaration's score modifier in fp64 for the reference (null for none).</summary>
    public Attention.Kernels.Reference.ScoreModFunction? ScoreMod { get; init; }

    /// <summary>The declaration's mask modifier for the reference (null for none).</summary>
    public Attention.Kernels.Reference.MaskModFunction? MaskMod { get; init; }

    public override string ToString() => Name;
}

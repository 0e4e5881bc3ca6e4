namespace Attention.Kernels.GpuRunner;

/// <summary>
/// Kernels the runner checks and times. Generated launch code routes a CUDA tensor to the device-C path once the
/// generator emits a <c>DeviceKind.Cuda</c> case (after the OpenCL branch's device-C emitter is merged); until then a
/// call on a CUDA device throws <see cref="NotSupportedException"/> and the runner reports it as "not wired".
/// </summary>
public static partial class GpuKernels
{
    /// <summary>The standard benchmark shape's dense kernel (B·T·8·64, BTHD).</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Dense(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>The standard benchmark shape's causal kernel.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Causal grouped-query attention with log-sum-exp: the configuration of the hand-written smoke kernel.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void CausalGqaLse(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

    /// <summary>Sliding window, wide head, BHTD layout.</summary>
    [ScaledDotProductAttention(HeadDim = 128, Heads = 4, KvHeads = 4, Mask = AttentionMask.SlidingWindow, Window = 200, Layout = TensorLayout.BHTD)]
    public static partial void Window128Bhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Odd head dim, multi-query.</summary>
    [ScaledDotProductAttention(HeadDim = 33, Heads = 8, KvHeads = 1, Mask = AttentionMask.None)]
    public static partial void Odd33Mqa(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>The standard dense shape with fp16 storage (fp32 accumulation).</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DenseHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    /// <summary>The standard causal shape with fp16 storage.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void CausalHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output);

    /// <summary>The standard dense shape with bf16 storage.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DenseBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    /// <summary>The standard causal shape with bf16 storage.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void CausalBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);

    /// <summary>Causal GQA with log-sum-exp and fp16 storage (the log-sum-exp stays fp32).</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
    public static partial void CausalGqaLseHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output, Tensor<float> logSumExp);

    /// <summary>Odd head dim, BHTD, sliding window, bf16 storage.</summary>
    [ScaledDotProductAttention(HeadDim = 33, Heads = 4, KvHeads = 2, Mask = AttentionMask.SlidingWindow, Window = 50, Layout = TensorLayout.BHTD)]
    public static partial void Window33BhtdBf16(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);
}

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
}

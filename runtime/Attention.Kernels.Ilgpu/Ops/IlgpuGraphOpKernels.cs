namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>The graph ops of an <see cref="IlgpuDevice"/> (placeholder until the ILGPU op kernels land).</summary>
internal sealed class IlgpuGraphOpKernels(IlgpuDevice device) : IGraphOpKernels
{
    public IlgpuDevice Device { get; } = device;

    public void Linear(Tensor<float> x, int rows, int inFeatures, GraphWeight weight, GraphWeight bias, int outFeatures, Tensor<float> y, Activation activation, Tensor<float>? residual) => throw new NotImplementedException();
    public void Map(Tensor<float> a, Tensor<float>? b, long count, Activation activation, Tensor<float> y) => throw new NotImplementedException();
    public void Norm(Tensor<float> x, int rows, int features, GraphWeight gamma, GraphWeight beta, float epsilon, bool centered, Tensor<float> y) => throw new NotImplementedException();
    public void AttentionPooling(Tensor<float> x, int batch, int length, int features, GraphWeight u, GraphWeight w, GraphWeight b, int hidden, Tensor<float> y) => throw new NotImplementedException();
    public void HierarchicalAttention(Tensor<float> x, int batch, int length, int features, Tensor<int> offsets, int segments, GraphWeight u1, GraphWeight w1, GraphWeight b1, int hidden1, GraphWeight u2, GraphWeight w2, GraphWeight b2, int hidden2, Tensor<float> y) => throw new NotImplementedException();
    public void SqueezeExcitation(Tensor<float> x, int batch, int length, int channels, GraphWeight w1, GraphWeight b1, int reduced, GraphWeight w2, GraphWeight b2, Tensor<float> y) => throw new NotImplementedException();
    public void PositionalWeighting(Tensor<float> x, int batch, int length, int features, GraphWeight p, int maxLength, Tensor<float> y) => throw new NotImplementedException();
    public void LayerwiseMix(ReadOnlySpan<Tensor<float>> layers, ReadOnlySpan<float> coefficients, long count, Tensor<float> y) => throw new NotImplementedException();
}

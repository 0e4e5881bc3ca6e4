namespace Attention.Kernels.Cpu;

/// <summary>The CPU device's graph ops: <see cref="CpuOps"/> over the tensors' host memory and the host weights.</summary>
internal sealed unsafe class CpuGraphOpKernels : IGraphOpKernels
{
    public static readonly CpuGraphOpKernels Instance = new();

    public void Linear(Tensor<float> x, int rows, int inFeatures, GraphWeight weight, GraphWeight bias, int outFeatures,
        Tensor<float> y, Activation activation, Tensor<float>? residual)
    {
        // The model's weights keep the packed copy the GEMM reads, so a forward pass does not repack every weight.
        float* packed = CpuOps.LinearUsesPackedWeight(rows) ? weight.PackedLinear(inFeatures, outFeatures) : null;
        CpuOps.LinearPacked(P(x), rows, inFeatures, weight.Host, packed, bias.Host, outFeatures, P(y), activation, residual is null ? null : P(residual));
        Keep(x, y, residual);
    }

    public void Map(Tensor<float> a, Tensor<float>? b, long count, Activation activation, Tensor<float> y)
    {
        if (b is null)
            CpuOps.Activate(P(a), count, activation, P(y));
        else if (activation == Activation.None)
            CpuOps.Add(P(a), P(b), count, P(y));
        else
            throw new NotSupportedException("The CPU graph ops fuse an activation only into Linear; add then activate.");
        Keep(a, b, y);
    }

    public void Norm(Tensor<float> x, int rows, int features, GraphWeight gamma, GraphWeight beta, float epsilon, bool centered, Tensor<float> y)
    {
        if (centered)
            CpuOps.LayerNorm(P(x), rows, features, gamma.Host, beta.Host, epsilon, P(y));
        else
            CpuOps.RmsNorm(P(x), rows, features, gamma.Host, epsilon, P(y));
        Keep(x, y);
    }

    public void AttentionPooling(Tensor<float> x, int batch, int length, int features, GraphWeight u, GraphWeight w, GraphWeight b, int hidden, Tensor<float> y)
    {
        CpuOps.AttentionPooling(P(x), batch, length, features, u.Host, w.Host, b.Host, hidden, P(y));
        Keep(x, y);
    }

    public void HierarchicalAttention(Tensor<float> x, int batch, int length, int features, Tensor<int> offsets, int segments,
        GraphWeight u1, GraphWeight w1, GraphWeight b1, int hidden1, GraphWeight u2, GraphWeight w2, GraphWeight b2, int hidden2, Tensor<float> y)
    {
        CpuOps.HierarchicalAttention(P(x), batch, length, features, CpuTensor.Pointer(offsets), segments,
            u1.Host, w1.Host, b1.Host, hidden1, u2.Host, w2.Host, b2.Host, hidden2, P(y));
        Keep(x, y, offsets);
    }

    public void SqueezeExcitation(Tensor<float> x, int batch, int length, int channels, GraphWeight w1, GraphWeight b1, int reduced,
        GraphWeight w2, GraphWeight b2, Tensor<float> y)
    {
        CpuOps.SqueezeExcitation(P(x), batch, length, channels, w1.Host, b1.Host, reduced, w2.Host, b2.Host, P(y));
        Keep(x, y);
    }

    public void PositionalWeighting(Tensor<float> x, int batch, int length, int features, GraphWeight p, int maxLength, Tensor<float> y)
    {
        CpuOps.PositionalWeighting(P(x), batch, length, features, p.Host, maxLength, P(y));
        Keep(x, y);
    }

    public void LayerwiseMix(ReadOnlySpan<Tensor<float>> layers, ReadOnlySpan<float> coefficients, long count, Tensor<float> y)
    {
        Span<nint> pointers = layers.Length <= 16 ? stackalloc nint[layers.Length] : new nint[layers.Length];
        for (int l = 0; l < layers.Length; l++)
            pointers[l] = (nint)P(layers[l]);
        CpuOps.LayerwiseMix(pointers, coefficients, count, P(y));
        foreach (var layer in layers)
            GC.KeepAlive(layer);
        GC.KeepAlive(y);
    }

    public void Embedding(Tensor<int> ids, Tensor<int>? typeIds, int batch, int length, int features, GraphWeight tokens, GraphWeight positions,
        GraphWeight types, bool norm, GraphWeight gamma, GraphWeight beta, float epsilon, Tensor<float> y)
    {
        CpuOps.Embedding(CpuTensor.Pointer(ids), typeIds is null ? null : CpuTensor.Pointer(typeIds), batch, length, features,
            tokens.Host, positions.Host, types.Host, norm, gamma.Host, beta.Host, epsilon, P(y));
        Keep(ids, typeIds, y);
    }

    public void MeanPooling(Tensor<float> x, int batch, int length, int features, Tensor<int>? lengths, Tensor<float> y)
    {
        CpuOps.MeanPooling(P(x), batch, length, features, lengths is null ? null : CpuTensor.Pointer(lengths), P(y));
        Keep(x, lengths, y);
    }

    public void L2Normalize(Tensor<float> x, int rows, int features, float epsilon, Tensor<float> y)
    {
        CpuOps.L2Normalize(P(x), rows, features, epsilon, P(y));
        Keep(x, y);
    }

    private static float* P(Tensor<float> tensor) => CpuTensor.Pointer(tensor);

    /// <summary>The ops read the tensors through raw pointers: keep the tensors (owners of that memory) alive until the op returns.</summary>
    private static void Keep(object? a, object? b, object? c = null)
    {
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }
}

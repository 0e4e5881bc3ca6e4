namespace Attention.Kernels;

/// <summary>
/// The graph ops a device runs: everything an <c>[AttentionModel]</c> graph launches besides its fused attention kernels.
/// Each <see cref="Device"/> provides one implementation (<see cref="Device.GraphOpKernels"/>); <see cref="GraphOps"/>
/// validates the arguments and calls it, so the backend is chosen by the device alone.
/// </summary>
/// <remarks>
/// Activations are row-major fp32 [rows, features]; every tensor lives on the implementing device and shapes were
/// checked by the caller. Weights come from <see cref="ModelWeights.On"/> for the same device (<see cref="GraphWeight.Host"/>
/// for host-memory backends, <see cref="GraphWeight.OnDevice"/> otherwise). Calls may be asynchronous on the device's queue.
/// </remarks>
public interface IGraphOpKernels
{
    /// <summary>y = activation(x·Wᵀ + bias) + residual; W is [outFeatures, inFeatures]; bias and residual optional.</summary>
    void Linear(Tensor<float> x, int rows, int inFeatures, GraphWeight weight, GraphWeight bias, int outFeatures,
        Tensor<float> y, Activation activation, Tensor<float>? residual);

    /// <summary>y = activation(a + b) over <paramref name="count"/> floats; <paramref name="b"/> optional.</summary>
    void Map(Tensor<float> a, Tensor<float>? b, long count, Activation activation, Tensor<float> y);

    /// <summary>LayerNorm (<paramref name="centered"/>, with optional β) or RMSNorm over the last axis.</summary>
    void Norm(Tensor<float> x, int rows, int features, GraphWeight gamma, GraphWeight beta, float epsilon, bool centered, Tensor<float> y);

    /// <summary>Attention pooling: y[b] = Σ_t softmax_t(score(x[b, t]))·x[b, t], score = u·x (hidden 0) or u·tanh(W x + b).</summary>
    void AttentionPooling(Tensor<float> x, int batch, int length, int features, GraphWeight u, GraphWeight w, GraphWeight b, int hidden, Tensor<float> y);

    /// <summary>Pooling within the segments given by <paramref name="offsets"/> (already validated), then across the non-empty ones.</summary>
    void HierarchicalAttention(Tensor<float> x, int batch, int length, int features, Tensor<int> offsets, int segments,
        GraphWeight u1, GraphWeight w1, GraphWeight b1, int hidden1, GraphWeight u2, GraphWeight w2, GraphWeight b2, int hidden2, Tensor<float> y);

    /// <summary>Squeeze-and-excitation over time: y[b, t, c] = x[b, t, c]·sigmoid(W2 relu(W1 mean_t x[b] + b1) + b2)[c].</summary>
    void SqueezeExcitation(Tensor<float> x, int batch, int length, int channels, GraphWeight w1, GraphWeight b1, int reduced,
        GraphWeight w2, GraphWeight b2, Tensor<float> y);

    /// <summary>y[b, t, f] = x[b, t, f]·(1 + p[t, f]) with p [maxLength, features], length ≤ maxLength.</summary>
    void PositionalWeighting(Tensor<float> x, int batch, int length, int features, GraphWeight p, int maxLength, Tensor<float> y);

    /// <summary>y = Σ_l coefficients[l]·layers[l] over <paramref name="count"/> floats per layer.</summary>
    void LayerwiseMix(ReadOnlySpan<Tensor<float>> layers, ReadOnlySpan<float> coefficients, long count, Tensor<float> y);

    /// <summary>
    /// y[r] = tokens[ids[r]] + positions[r mod length] + types[typeIds[r]] over batch·length rows (tables optional, ids
    /// validated), then LayerNorm with γ, β and ε when <paramref name="norm"/>.
    /// </summary>
    void Embedding(Tensor<int> ids, Tensor<int>? typeIds, int batch, int length, int features, GraphWeight tokens, GraphWeight positions,
        GraphWeight types, bool norm, GraphWeight gamma, GraphWeight beta, float epsilon, Tensor<float> y);

    /// <summary>y[b] = mean of x[b, t] over t &lt; lengths[b] (all t when lengths is null); zeros for a row of length 0.</summary>
    void MeanPooling(Tensor<float> x, int batch, int length, int features, Tensor<int>? lengths, Tensor<float> y);

    /// <summary>y = x / max(‖x‖₂, ε) per row.</summary>
    void L2Normalize(Tensor<float> x, int rows, int features, float epsilon, Tensor<float> y);
}

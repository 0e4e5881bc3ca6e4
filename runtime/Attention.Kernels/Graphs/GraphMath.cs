namespace Attention.Kernels;

/// <summary>Host-side pieces every backend of the graph ops shares, so the CPU and device paths cannot drift apart.</summary>
internal static class GraphMath
{
    /// <summary>
    /// coefficients[l] = gamma·softmax(logits)_l, computed in double: the layer-wise mix is Σ_l coefficients[l]·layer_l
    /// on every backend.
    /// </summary>
    public static void MixCoefficients(ReadOnlySpan<float> logits, float gamma, Span<float> coefficients)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float logit in logits)
            max = Math.Max(max, logit);
        foreach (float logit in logits)
            sum += Math.Exp(logit - max);
        for (int l = 0; l < logits.Length; l++)
            coefficients[l] = (float)(gamma * Math.Exp(logits[l] - max) / sum);
    }

    /// <summary>Throws unless each row's segment offsets [batch, segments + 1] are non-decreasing within [0, length].</summary>
    public static void ValidateSegmentOffsets(ReadOnlySpan<int> offsets, int batch, int segments, int length, string argument)
    {
        for (int row = 0; row < batch; row++)
        {
            var o = offsets.Slice(row * (segments + 1), segments + 1);
            if (o[0] < 0 || o[segments] > length)
                throw new ArgumentException($"Segment offsets of batch row {row} leave [0, {length}]: first {o[0]}, last {o[segments]}.", argument);
            for (int s = 0; s < segments; s++)
            {
                if (o[s + 1] < o[s])
                    throw new ArgumentException($"Segment offsets of batch row {row} decrease at segment {s}: {o[s]} then {o[s + 1]}.", argument);
            }
        }
    }
}

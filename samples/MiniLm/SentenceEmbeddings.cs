namespace Attention.Kernels.MiniLm;

/// <summary>
/// The sentence-transformers head of all-MiniLM-L6-v2 on the host: mean of the token states over each sentence's valid
/// tokens, then L2 normalisation (the ONNX model stops at last_hidden_state; its other output is BERT's pooler, not this).
/// Accumulates in double: it is the reference the graph's pooling nodes are compared with.
/// </summary>
public static class SentenceEmbeddings
{
    /// <summary>
    /// Embeddings [B, H] of <paramref name="hidden"/> [B, T, H] under <paramref name="attentionMask"/> [B, T]
    /// (sentence-transformers: Σ mask·x / max(Σ mask, 1e-9), then x / max(‖x‖, 1e-12)).
    /// </summary>
    public static float[] MeanPoolNormalize(ReadOnlySpan<float> hidden, ReadOnlySpan<int> attentionMask, int batch, int length, int features)
    {
        var result = new float[batch * features];
        MeanPoolNormalize(hidden, attentionMask, batch, length, features, result);
        return result;
    }

    /// <summary>As <see cref="MeanPoolNormalize(ReadOnlySpan{float}, ReadOnlySpan{int}, int, int, int)"/>, into the
    /// caller's <paramref name="result"/> [B, H] (reused across calls: nothing allocated but the small double sums).</summary>
    public static void MeanPoolNormalize(ReadOnlySpan<float> hidden, ReadOnlySpan<int> attentionMask, int batch, int length, int features, Span<float> result)
    {
        if (hidden.Length != (long)batch * length * features)
            throw new ArgumentException($"hidden has {hidden.Length} values, expected [{batch}, {length}, {features}].", nameof(hidden));
        if (attentionMask.Length != batch * length)
            throw new ArgumentException($"attentionMask has {attentionMask.Length} values, expected [{batch}, {length}].", nameof(attentionMask));
        if (result.Length != batch * features)
            throw new ArgumentException($"result has {result.Length} values, expected [{batch}, {features}].", nameof(result));

        var sum = new double[features];
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(sum);
            double count = 0;
            for (int t = 0; t < length; t++)
            {
                int m = attentionMask[b * length + t];
                if (m == 0)
                    continue;
                count += m;
                var row = hidden.Slice((b * length + t) * features, features);
                for (int f = 0; f < features; f++)
                    sum[f] += m * (double)row[f];
            }
            count = Math.Max(count, 1e-9);
            double norm = 0;
            for (int f = 0; f < features; f++)
            {
                sum[f] /= count;
                norm += sum[f] * sum[f];
            }
            norm = Math.Max(Math.Sqrt(norm), 1e-12);
            for (int f = 0; f < features; f++)
                result[b * features + f] = (float)(sum[f] / norm);
        }
    }

    /// <summary>Cosine similarities [B, B] of the rows of <paramref name="embeddings"/> [B, H].</summary>
    public static double[,] CosineSimilarities(ReadOnlySpan<float> embeddings, int batch, int features)
    {
        if (embeddings.Length != batch * features)
            throw new ArgumentException($"embeddings has {embeddings.Length} values, expected [{batch}, {features}].", nameof(embeddings));
        var norms = new double[batch];
        for (int i = 0; i < batch; i++)
            norms[i] = Math.Sqrt(Dot(embeddings, i, i, features));
        var result = new double[batch, batch];
        for (int i = 0; i < batch; i++)
        {
            for (int j = 0; j < batch; j++)
                result[i, j] = Dot(embeddings, i, j, features) / Math.Max(norms[i] * norms[j], 1e-300);
        }
        return result;
    }

    private static double Dot(ReadOnlySpan<float> x, int i, int j, int features)
    {
        double dot = 0;
        for (int f = 0; f < features; f++)
            dot += (double)x[i * features + f] * x[j * features + f];
        return dot;
    }
}

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

    /// <summary>
    /// Per-row lengths from a padding tensor: lengths [batch] (each in [0, length]) or an attention mask [batch, length] of
    /// 0/1 whose ones come first (a tokenizer's padding on the right). Anything else throws, naming <paramref name="argument"/>.
    /// </summary>
    public static void PaddingLengths(ReadOnlySpan<int> padding, int rank, int batch, int length, Span<int> lengths, string argument)
    {
        if (rank == 1)
        {
            for (int b = 0; b < batch; b++)
            {
                if ((uint)padding[b] > (uint)length)
                    throw new ArgumentException($"Length {padding[b]} of batch row {b} is outside [0, {length}].", argument);
                lengths[b] = padding[b];
            }
            return;
        }
        for (int b = 0; b < batch; b++)
        {
            var row = padding.Slice(b * length, length);
            int n = row.IndexOfAnyExcept(1);
            n = n < 0 ? length : n;
            int bad = row.Slice(n).IndexOfAnyExcept(0);
            if (bad >= 0)
                throw new ArgumentException(
                    $"Attention mask row {b} has {row[n + bad]} at position {n + bad} after padding began at {n}: masks must be 0/1 with each row's tokens first.", argument);
            lengths[b] = n;
        }
    }

    /// <summary>Throws unless every id is in [0, <paramref name="count"/>), naming <paramref name="argument"/> and the first bad id.</summary>
    public static void ValidateIds(ReadOnlySpan<int> ids, int count, string argument)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)count)
                throw new ArgumentException($"Id {ids[i]} at flat position {i} is outside the table's [0, {count}).", argument);
        }
    }
}

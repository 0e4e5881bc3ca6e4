namespace Attention.Kernels.Reference;

/// <summary>A score modifier in fp64: the natural-unit score scale·q·k of (batch, head, query, key) → the score to use.</summary>
public delegate double ScoreModFunction(double score, int batch, int head, int query, int key);

/// <summary>A mask modifier: true where query sees key (ANDed with the problem's mask).</summary>
public delegate bool MaskModFunction(int batch, int head, int query, int key);

/// <summary>The attention problem a reference is computed for (compile-time constants and runtime sizes together).</summary>
/// <remarks><see cref="ScoreMod"/> and <see cref="MaskMod"/> are a declaration's modifiers (docs/kernels/mods.md), null for none.</remarks>
public sealed record AttentionProblem(
    int Batch, int QueryLength, int KeyLength, int Heads, int KvHeads, int HeadDim,
    AttentionMask Mask, int Window, double Scale, TensorLayout Layout)
{
    /// <summary>The score modifier, applied to every visible pair's scaled score before the softmax; null for none.</summary>
    public ScoreModFunction? ScoreMod { get; init; }

    /// <summary>The mask modifier, ANDed with <see cref="Mask"/>; null for none.</summary>
    public MaskModFunction? MaskMod { get; init; }

    /// <summary>Key padding: the real keys of each batch entry (key j of entry b is visible only if j &lt; KeyLengths[b]); null for none.</summary>
    public int[]? KeyLengths { get; init; }

    /// <summary>PyTorch SDPA's boolean attn_mask at (b, h, i, j): true takes part (ANDed with the other masks); null for none.</summary>
    public MaskModFunction? BooleanMask { get; init; }

    /// <summary>PyTorch SDPA's float attn_mask at (b, h, i, j): added to the scaled score, after the score modifier; null for none.</summary>
    public Func<int, int, int, int, double>? AdditiveMask { get; init; }

    public int[] QueryShape => Layout == TensorLayout.BTHD ? [Batch, QueryLength, Heads, HeadDim] : [Batch, Heads, QueryLength, HeadDim];
    public int[] KeyShape => Layout == TensorLayout.BTHD ? [Batch, KeyLength, KvHeads, HeadDim] : [Batch, KvHeads, KeyLength, HeadDim];
    public int QueryElements => Batch * QueryLength * Heads * HeadDim;
    public int KeyElements => Batch * KeyLength * KvHeads * HeadDim;

    /// <summary>Index of element (b, t, h, d) of a tensor with <paramref name="heads"/> heads and <paramref name="length"/> positions.</summary>
    public long Index(int b, int t, int h, int d, int heads, int length) => Layout == TensorLayout.BTHD
        ? (((long)b * length + t) * heads + h) * HeadDim + d
        : (((long)b * heads + h) * length + t) * HeadDim + d;

    public override string ToString() =>
        $"B={Batch} Tq={QueryLength} Tk={KeyLength} H={Heads} KvH={KvHeads} D={HeadDim} {Mask}{(Window > 0 ? $"({Window})" : "")} {Layout} scale={Scale:G4}" +
        (ScoreMod is null ? "" : " +scoreMod") + (MaskMod is null ? "" : " +maskMod") +
        (KeyLengths is null ? "" : " keyLengths=[" + string.Join(",", KeyLengths) + "]") +
        (BooleanMask is null ? "" : " +boolMask") + (AdditiveMask is null ? "" : " +additiveMask");
}

/// <summary>Scaled dot-product attention in fp64, the textbook way: scores, softmax, weighted sum.</summary>
public static class ReferenceAttention
{
    /// <summary>
    /// Key <paramref name="j"/> is visible to query <paramref name="i"/>: Causal and SlidingWindow aligned bottom-right
    /// (FlashAttention: j ≤ i + Tk − Tq), CausalTopLeft aligned top-left (PyTorch's is_causal: j ≤ i). Written out here,
    /// independently of the runtime's AttentionGeometry.
    /// </summary>
    public static bool Visible(AttentionProblem p, int i, int j)
    {
        int last = p.Mask == AttentionMask.CausalTopLeft ? i : i + p.KeyLength - p.QueryLength; // the diagonal key of query i
        return p.Mask switch
        {
            AttentionMask.None => true,
            AttentionMask.Causal or AttentionMask.CausalTopLeft => j <= last,
            AttentionMask.SlidingWindow => j <= last && j > last - p.Window,
            _ => throw new ArgumentOutOfRangeException(nameof(p)),
        };
    }

    /// <summary>
    /// Key <paramref name="j"/> is visible to query <paramref name="i"/> of (<paramref name="b"/>, <paramref name="h"/>): the
    /// mask (aligned on the full Tk) AND the mask modifier AND the key padding.
    /// </summary>
    public static bool Visible(AttentionProblem p, int b, int h, int i, int j) =>
        Visible(p, i, j) && (p.MaskMod is null || p.MaskMod(b, h, i, j)) && (p.KeyLengths is null || j < p.KeyLengths[b]) &&
        (p.BooleanMask is null || p.BooleanMask(b, h, i, j));

    /// <summary>
    /// The attention weights of (<paramref name="b"/>, <paramref name="h"/>) as a row-major [Tq, Tk] array: the softmax of
    /// each row's visible scores in fp64, 0 where a pair is hidden, and a row of zeros where a query sees no key.
    /// </summary>
    public static double[] Weights(AttentionProblem p, float[] q, float[] k, int b, int h)
    {
        var weights = new double[p.QueryLength * p.KeyLength];
        for (int i = 0; i < p.QueryLength; i++)
        {
            var row = weights.AsSpan(i * p.KeyLength, p.KeyLength);
            double max = Scores(p, q, k, b, h, i, row);
            if (double.IsNegativeInfinity(max))
            {
                row.Clear(); // no visible key: zeros
                continue;
            }
            double sum = 0;
            for (int j = 0; j < p.KeyLength; j++)
                sum += row[j] = Math.Exp(row[j] - max);
            for (int j = 0; j < p.KeyLength; j++)
                row[j] /= sum;
        }
        return weights;
    }

    /// <summary>
    /// Query row <paramref name="i"/> of (<paramref name="b"/>, <paramref name="h"/>): scale·q·k (through the score mod) for
    /// every visible key, −∞ for hidden ones, into <paramref name="scores"/>; returns the row's max (−∞ if it sees no key).
    /// </summary>
    private static double Scores(AttentionProblem p, float[] q, float[] k, int b, int h, int i, Span<double> scores)
    {
        int kvh = h / (p.Heads / p.KvHeads);
        double max = double.NegativeInfinity;
        for (int j = 0; j < p.KeyLength; j++)
        {
            if (!Visible(p, b, h, i, j))
            {
                scores[j] = double.NegativeInfinity;
                continue;
            }
            double dot = 0;
            for (int d = 0; d < p.HeadDim; d++)
                dot += (double)q[p.Index(b, i, h, d, p.Heads, p.QueryLength)] * k[p.Index(b, j, kvh, d, p.KvHeads, p.KeyLength)];
            scores[j] = p.ScoreMod is null ? dot * p.Scale : p.ScoreMod(dot * p.Scale, b, h, i, j);
            if (p.AdditiveMask is not null)
                scores[j] += p.AdditiveMask(b, h, i, j); // PyTorch: attn_weight += attn_bias, after the scaling
            max = Math.Max(max, scores[j]);
        }
        return max;
    }

    /// <summary>Returns the output (in the problem's layout) and the log-sum-exp [B, H, Tq] (−∞ for rows that see no key).</summary>
    public static (double[] Output, double[] LogSumExp) Compute(AttentionProblem p, float[] q, float[] k, float[] v)
    {
        var output = new double[p.QueryElements];
        var lse = new double[p.Batch * p.Heads * p.QueryLength];
        var scores = new double[p.KeyLength];
        int group = p.Heads / p.KvHeads;
        for (int b = 0; b < p.Batch; b++)
        for (int h = 0; h < p.Heads; h++)
        for (int i = 0; i < p.QueryLength; i++)
        {
            int kvh = h / group;
            double max = Scores(p, q, k, b, h, i, scores);
            int lseIndex = (b * p.Heads + h) * p.QueryLength + i;
            if (double.IsNegativeInfinity(max))
            {
                lse[lseIndex] = double.NegativeInfinity; // no visible key: output stays 0
                continue;
            }
            double sum = 0;
            for (int j = 0; j < p.KeyLength; j++)
                sum += scores[j] = Math.Exp(scores[j] - max);
            lse[lseIndex] = max + Math.Log(sum);
            for (int d = 0; d < p.HeadDim; d++)
            {
                double acc = 0;
                for (int j = 0; j < p.KeyLength; j++)
                    acc += scores[j] * v[p.Index(b, j, kvh, d, p.KvHeads, p.KeyLength)];
                output[p.Index(b, i, h, d, p.Heads, p.QueryLength)] = acc / sum;
            }
        }
        return (output, lse);
    }
}

namespace Attention.Kernels.Reference;

/// <summary>
/// fp64 references for the CPU ops (CpuOps), written independently of them: plain loops over the textbook formulas,
/// full softmax over materialized scores (no online softmax), no blocking, no SIMD.
/// </summary>
public static class ReferenceOps
{
    /// <summary>erf in double: erf(x) = 2/√π·e^(−x²)·Σ_n 2ⁿ x^(2n+1)/(1·3···(2n+1)), a series of positive terms (no cancellation).</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        if (z > 6)
            return Math.Sign(x);
        double term = z, sum = z;
        for (int n = 1; n < 400 && term > 1e-18 * sum; n++)
        {
            term *= 2 * z * z / (2 * n + 1);
            sum += term;
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z) * sum;
    }

    /// <summary>The activation of one value.</summary>
    public static double Activate(double v, Activation activation) => activation switch
    {
        Activation.None => v,
        Activation.Relu => v > 0 ? v : 0,
        Activation.Gelu => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>y[m, n] = act(Σ_k x[m, k]·w[n, k] + bias[n]) + residual[m, n].</summary>
    public static double[] Linear(float[] x, int rows, int inFeatures, float[] weight, float[]? bias, int outFeatures,
        Activation activation, float[]? residual)
    {
        var y = new double[rows * outFeatures];
        for (int m = 0; m < rows; m++)
        for (int n = 0; n < outFeatures; n++)
        {
            double s = bias?[n] ?? 0;
            for (int k = 0; k < inFeatures; k++)
                s += (double)x[m * inFeatures + k] * weight[n * inFeatures + k];
            y[m * outFeatures + n] = Activate(s, activation) + (residual?[m * outFeatures + n] ?? 0);
        }
        return y;
    }

    /// <summary>Layer norm with biased variance; gamma/beta null mean ones/zeros.</summary>
    public static double[] LayerNorm(float[] x, int rows, int features, float[]? gamma, float[]? beta, double epsilon)
    {
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int f = 0; f < features; f++)
                mean += x[r * features + f];
            mean /= features;
            for (int f = 0; f < features; f++)
                variance += (x[r * features + f] - mean) * (x[r * features + f] - mean);
            variance /= features;
            for (int f = 0; f < features; f++)
                y[r * features + f] = (x[r * features + f] - mean) / Math.Sqrt(variance + epsilon) * (gamma?[f] ?? 1) + (beta?[f] ?? 0);
        }
        return y;
    }

    /// <summary>RMS norm: x / sqrt(mean(x²) + eps)·gamma.</summary>
    public static double[] RmsNorm(float[] x, int rows, int features, float[]? gamma, double epsilon)
    {
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            double squares = 0;
            for (int f = 0; f < features; f++)
                squares += (double)x[r * features + f] * x[r * features + f];
            double scale = 1 / Math.Sqrt(squares / features + epsilon);
            for (int f = 0; f < features; f++)
                y[r * features + f] = x[r * features + f] * scale * (gamma?[f] ?? 1);
        }
        return y;
    }

    /// <summary>Element-wise activation.</summary>
    public static double[] Activate(float[] x, Activation activation) => x.Select(v => Activate(v, activation)).ToArray();

    /// <summary>Element-wise sum.</summary>
    public static double[] Add(float[] a, float[] b) => a.Select((v, i) => (double)v + b[i]).ToArray();

    /// <summary>Score of one token: u·x, or u·tanh(W x + b).</summary>
    private static double Score(float[] x, int offset, int features, float[] u, float[]? w, float[]? b, int hidden)
    {
        double score = 0;
        if (hidden == 0)
        {
            for (int f = 0; f < features; f++)
                score += (double)u[f] * x[offset + f];
            return score;
        }
        for (int j = 0; j < hidden; j++)
        {
            double a = b?[j] ?? 0;
            for (int f = 0; f < features; f++)
                a += (double)w![j * features + f] * x[offset + f];
            score += u[j] * Math.Tanh(a);
        }
        return score;
    }

    /// <summary>Softmax-weighted sum of the vectors at <paramref name="offsets"/> (features each); weights returned too. No vectors: zeros.</summary>
    private static (double[] Pooled, double[] Weights) Pool(float[] x, IReadOnlyList<int> offsets, int features, float[] u, float[]? w, float[]? b, int hidden)
    {
        var pooled = new double[features];
        var scores = offsets.Select(o => Score(x, o, features, u, w, b, hidden)).ToArray();
        if (scores.Length == 0)
            return (pooled, scores);
        double max = scores.Max();
        var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
        double sum = weights.Sum();
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] /= sum;
            for (int f = 0; f < features; f++)
                pooled[f] += weights[i] * x[offsets[i] + f];
        }
        return (pooled, weights);
    }

    /// <summary>Attention pooling: y [batch, features] and the weights [batch, length].</summary>
    public static (double[] Y, double[] Weights) AttentionPooling(float[] x, int batch, int length, int features,
        float[] u, float[]? w, float[]? b, int hidden)
    {
        var y = new double[batch * features];
        var weights = new double[batch * length];
        for (int r = 0; r < batch; r++)
        {
            var (pooled, wr) = Pool(x, Enumerable.Range(0, length).Select(t => (r * length + t) * features).ToArray(), features, u, w, b, hidden);
            pooled.CopyTo(y, r * features);
            wr.CopyTo(weights, r * length);
        }
        return (y, weights);
    }

    /// <summary>Hierarchical attention: y [batch, features] and the segment vectors [batch, segments, features].</summary>
    public static (double[] Y, double[] SegmentVectors) HierarchicalAttention(float[] x, int batch, int length, int features, int[] offsets, int segments,
        float[] u1, float[]? w1, float[]? b1, int hidden1, float[] u2, float[]? w2, float[]? b2, int hidden2)
    {
        var y = new double[batch * features];
        var vectors = new double[batch * segments * features];
        for (int r = 0; r < batch; r++)
        {
            var sentence = new List<float>();
            for (int s = 0; s < segments; s++)
            {
                int start = offsets[r * (segments + 1) + s], end = offsets[r * (segments + 1) + s + 1];
                var (pooled, _) = Pool(x, Enumerable.Range(start, end - start).Select(t => (r * length + t) * features).ToArray(), features, u1, w1, b1, hidden1);
                pooled.CopyTo(vectors, (r * segments + s) * features);
                if (end > start)
                    sentence.AddRange(pooled.Select(v => (float)v)); // the next level sees fp32 vectors, like the kernel
            }
            int count = sentence.Count / Math.Max(1, features);
            var (top, _) = Pool(sentence.ToArray(), Enumerable.Range(0, count).Select(i => i * features).ToArray(), features, u2, w2, b2, hidden2);
            top.CopyTo(y, r * features);
        }
        return (y, vectors);
    }

    /// <summary>Squeeze-and-excitation.</summary>
    public static double[] SqueezeExcitation(float[] x, int batch, int length, int channels, float[] w1, float[]? b1, int reduced, float[] w2, float[]? b2)
    {
        var y = new double[batch * length * channels];
        for (int r = 0; r < batch; r++)
        {
            var s = new double[channels];
            for (int t = 0; t < length; t++)
                for (int c = 0; c < channels; c++)
                    s[c] += x[(r * length + t) * channels + c] / (double)length;
            var h = new double[reduced];
            for (int j = 0; j < reduced; j++)
            {
                double a = b1?[j] ?? 0;
                for (int c = 0; c < channels; c++)
                    a += w1[j * channels + c] * s[c];
                h[j] = Math.Max(a, 0);
            }
            for (int c = 0; c < channels; c++)
            {
                double a = b2?[c] ?? 0;
                for (int j = 0; j < reduced; j++)
                    a += w2[c * reduced + j] * h[j];
                double e = 1 / (1 + Math.Exp(-a));
                for (int t = 0; t < length; t++)
                    y[(r * length + t) * channels + c] = x[(r * length + t) * channels + c] * e;
            }
        }
        return y;
    }

    /// <summary>y[b, t, f] = x[b, t, f]·(1 + p[t, f]).</summary>
    public static double[] PositionalWeighting(float[] x, int batch, int length, int features, float[] p)
    {
        var y = new double[batch * length * features];
        for (int r = 0; r < batch; r++)
        for (int t = 0; t < length; t++)
        for (int f = 0; f < features; f++)
            y[(r * length + t) * features + f] = x[(r * length + t) * features + f] * (1 + (double)p[t * features + f]);
        return y;
    }

    /// <summary>y = gamma·Σ_l softmax(logits)_l·layers[l].</summary>
    public static double[] LayerwiseMix(float[][] layers, float[] logits, double gamma)
    {
        double max = logits.Max();
        double sum = logits.Sum(l => Math.Exp(l - max));
        var y = new double[layers[0].Length];
        for (int l = 0; l < layers.Length; l++)
        {
            double weight = Math.Exp(logits[l] - max) / sum;
            for (int i = 0; i < y.Length; i++)
                y[i] += gamma * weight * layers[l][i];
        }
        return y;
    }

    /// <summary>
    /// Token embedding: y[b, t] = tokens[ids[b, t]] + positions[t] + types[typeIds[b, t] or 0], then LayerNorm (biased
    /// variance) with γ, β, ε when <paramref name="epsilon"/> &gt; 0; all in double.
    /// </summary>
    public static double[] Embedding(int[] ids, int[]? typeIds, int batch, int length, int features, float[] tokens, float[]? positions,
        float[]? types, float[]? gamma, float[]? beta, double epsilon)
    {
        int rows = batch * length;
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            for (int f = 0; f < features; f++)
            {
                double v = tokens[ids[r] * features + f];
                if (positions is not null)
                    v += positions[r % length * features + f];
                if (types is not null)
                    v += types[(typeIds?[r] ?? 0) * features + f];
                y[r * features + f] = v;
            }
            if (epsilon > 0)
            {
                double mean = 0, variance = 0;
                for (int f = 0; f < features; f++)
                    mean += y[r * features + f];
                mean /= features;
                for (int f = 0; f < features; f++)
                    variance += (y[r * features + f] - mean) * (y[r * features + f] - mean);
                variance /= features;
                double scale = 1 / Math.Sqrt(variance + epsilon);
                for (int f = 0; f < features; f++)
                    y[r * features + f] = (y[r * features + f] - mean) * scale * (gamma?[f] ?? 1) + (beta?[f] ?? 0);
            }
        }
        return y;
    }

    /// <summary>y[b] = Σ_{t &lt; n_b} x[b, t] / n_b with n_b = lengths[b] (or length); zeros when n_b = 0.</summary>
    public static double[] MeanPooling(float[] x, int batch, int length, int features, int[]? lengths)
    {
        var y = new double[batch * features];
        for (int b = 0; b < batch; b++)
        {
            int n = lengths?[b] ?? length;
            for (int f = 0; f < features; f++)
            {
                double sum = 0;
                for (int t = 0; t < n; t++)
                    sum += x[(b * length + t) * features + f];
                y[b * features + f] = n == 0 ? 0 : sum / n;
            }
        }
        return y;
    }

    /// <summary>y = x / max(‖x‖₂, ε) per row.</summary>
    public static double[] L2Normalize(float[] x, int rows, int features, double epsilon)
    {
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            double squares = 0;
            for (int f = 0; f < features; f++)
                squares += (double)x[r * features + f] * x[r * features + f];
            double scale = 1 / Math.Max(Math.Sqrt(squares), epsilon);
            for (int f = 0; f < features; f++)
                y[r * features + f] = x[r * features + f] * scale;
        }
        return y;
    }
}

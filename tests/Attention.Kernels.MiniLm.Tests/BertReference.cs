using Attention.Kernels.Reference;

namespace Attention.Kernels.MiniLm.Tests;

/// <summary>
/// BERT's encoder in fp64, one sentence at a time over its valid tokens only (what padding must not change), from weights
/// in PyTorch's names and layout: the yardstick for the checkpoint's names and transpositions against ONNX Runtime.
/// </summary>
internal static class BertReference
{
    /// <summary>last_hidden_state [T, 384] of one sentence's <paramref name="ids"/> (token type 0).</summary>
    public static double[] LastHiddenState(Func<string, float[]> weight, ReadOnlySpan<int> ids)
    {
        const int h = MiniLmCheckpoint.Hidden;
        int t = ids.Length;
        var words = weight("embeddings.word_embeddings.weight");
        var positions = weight("embeddings.position_embeddings.weight");
        var types = weight("embeddings.token_type_embeddings.weight");
        var x = new double[t * h];
        for (int i = 0; i < t; i++)
        {
            for (int f = 0; f < h; f++)
                x[i * h + f] = (double)words[ids[i] * h + f] + positions[i * h + f] + types[f];
        }
        x = LayerNorm(x, t, weight("embeddings.LayerNorm.weight"), weight("embeddings.LayerNorm.bias"));

        for (int layer = 0; layer < MiniLmCheckpoint.Layers; layer++)
        {
            string p = $"encoder.layer.{layer}.";
            double[] Linear(double[] input, string name, int inFeatures, int outFeatures) =>
                LinearOf(input, t, inFeatures, weight(p + name + ".weight"), weight(p + name + ".bias"), outFeatures);

            var q = Linear(x, "attention.self.query", h, h);
            var k = Linear(x, "attention.self.key", h, h);
            var v = Linear(x, "attention.self.value", h, h);
            var context = Attention(q, k, v, t);
            var attended = Linear(context, "attention.output.dense", h, h);
            for (int i = 0; i < attended.Length; i++)
                attended[i] += x[i];
            x = LayerNorm(attended, t, weight(p + "attention.output.LayerNorm.weight"), weight(p + "attention.output.LayerNorm.bias"));

            var inner = Linear(x, "intermediate.dense", h, MiniLmCheckpoint.Intermediate);
            for (int i = 0; i < inner.Length; i++)
                inner[i] = 0.5 * inner[i] * (1 + ReferenceOps.Erf(inner[i] / Math.Sqrt(2)));
            var output = Linear(inner, "output.dense", MiniLmCheckpoint.Intermediate, h);
            for (int i = 0; i < output.Length; i++)
                output[i] += x[i];
            x = LayerNorm(output, t, weight(p + "output.LayerNorm.weight"), weight(p + "output.LayerNorm.bias"));
        }
        return x;
    }

    /// <summary>y = x·Wᵀ + b with W [out, in] (nn.Linear).</summary>
    private static double[] LinearOf(double[] x, int rows, int inFeatures, float[] w, float[] b, int outFeatures)
    {
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = b[o];
                for (int i = 0; i < inFeatures; i++)
                    sum += x[r * inFeatures + i] * w[o * inFeatures + i];
                y[r * outFeatures + o] = sum;
            }
        }
        return y;
    }

    private static double[] LayerNorm(double[] x, int rows, float[] gamma, float[] beta)
    {
        int h = gamma.Length;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * h, h);
            double mean = 0, variance = 0;
            foreach (var v in row)
                mean += v;
            mean /= h;
            foreach (var v in row)
                variance += (v - mean) * (v - mean);
            variance /= h;
            double inverse = 1 / Math.Sqrt(variance + MiniLmCheckpoint.LayerNormEpsilon);
            for (int f = 0; f < h; f++)
                y[r * h + f] = (row[f] - mean) * inverse * gamma[f] + beta[f];
        }
        return y;
    }

    /// <summary>12 heads of 32, no mask (valid tokens only), scale 1/√32.</summary>
    private static double[] Attention(double[] q, double[] k, double[] v, int t)
    {
        const int h = MiniLmCheckpoint.Hidden, d = MiniLmCheckpoint.HeadDim;
        var context = new double[t * h];
        var scores = new double[t];
        double scale = 1 / Math.Sqrt(d);
        for (int head = 0; head < MiniLmCheckpoint.Heads; head++)
        {
            for (int i = 0; i < t; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < t; j++)
                {
                    double s = 0;
                    for (int c = 0; c < d; c++)
                        s += q[i * h + head * d + c] * k[j * h + head * d + c];
                    scores[j] = s * scale;
                    max = Math.Max(max, scores[j]);
                }
                double total = 0;
                for (int j = 0; j < t; j++)
                    total += scores[j] = Math.Exp(scores[j] - max);
                for (int c = 0; c < d; c++)
                {
                    double sum = 0;
                    for (int j = 0; j < t; j++)
                        sum += scores[j] * v[j * h + head * d + c];
                    context[i * h + head * d + c] = sum / total;
                }
            }
        }
        return context;
    }
}

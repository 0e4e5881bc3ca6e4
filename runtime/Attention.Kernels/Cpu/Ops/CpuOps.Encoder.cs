using System.Numerics.Tensors;

namespace Attention.Kernels.Cpu;

public static unsafe partial class CpuOps
{
    private const int EmbeddingRowsPerItem = 16;

    /// <summary>
    /// Token embedding over batch·length rows: y[r] = tokens[ids[r]] + positions[r mod length] + types[typeIds[r]], then
    /// LayerNorm(γ, β, ε) in place when <paramref name="norm"/>. Ids must be valid (the caller checked them).
    /// </summary>
    /// <param name="ids">Token ids [batch, length].</param>
    /// <param name="typeIds">Token-type ids [batch, length], or null for type 0 (when <paramref name="types"/> is given).</param>
    /// <param name="batch">Batch rows.</param>
    /// <param name="length">Tokens per batch row.</param>
    /// <param name="features">Embedding width.</param>
    /// <param name="tokens">Token table [vocabulary, features].</param>
    /// <param name="positions">Position table [≥ length, features], or null.</param>
    /// <param name="types">Token-type table [types, features], or null.</param>
    /// <param name="norm">Whether to apply LayerNorm to the sum.</param>
    /// <param name="gamma">LayerNorm scale, or null for ones.</param>
    /// <param name="beta">LayerNorm shift, or null for zeros.</param>
    /// <param name="epsilon">LayerNorm ε.</param>
    /// <param name="y">Output [batch, length, features].</param>
    public static void Embedding(int* ids, int* typeIds, int batch, int length, int features, float* tokens, float* positions, float* types,
        bool norm, float* gamma, float* beta, float epsilon, float* y)
    {
        RequireNonNegative(batch, nameof(batch));
        RequireNonNegative(length, nameof(length));
        RequireNonNegative(features, nameof(features));
        int rows = batch * length;
        var body = new EmbeddingBody { Ids = ids, TypeIds = typeIds, Rows = rows, Length = length, Features = features, Tokens = tokens, Positions = positions, Types = types, Y = y };
        CpuParallel.For((rows + EmbeddingRowsPerItem - 1) / EmbeddingRowsPerItem, ref body);
        if (norm)
            LayerNorm(y, rows, features, gamma, beta, epsilon, y);
    }

    private struct EmbeddingBody : ICpuParallelBody
    {
        public int* Ids, TypeIds;
        public float* Tokens, Positions, Types, Y;
        public int Rows, Length, Features;

        public readonly void Invoke(int index, int worker)
        {
            int n = Features;
            int end = Math.Min(Rows, (index + 1) * EmbeddingRowsPerItem);
            for (int row = index * EmbeddingRowsPerItem; row < end; row++)
            {
                var y = new Span<float>(Y + (long)row * n, n);
                new ReadOnlySpan<float>(Tokens + (long)Ids[row] * n, n).CopyTo(y);
                if (Positions != null)
                    TensorPrimitives.Add(y, new ReadOnlySpan<float>(Positions + (long)(row % Length) * n, n), y);
                if (Types != null)
                    TensorPrimitives.Add(y, new ReadOnlySpan<float>(Types + (long)(TypeIds == null ? 0 : TypeIds[row]) * n, n), y);
            }
        }
    }

    /// <summary>
    /// Mean pooling over time: y[b] = Σ_{t &lt; n_b} x[b, t] / n_b with n_b = lengths[b] (or length when lengths is null);
    /// zeros for n_b = 0. x is [batch, length, features], y [batch, features].
    /// </summary>
    public static void MeanPooling(float* x, int batch, int length, int features, int* lengths, float* y)
    {
        RequireNonNegative(batch, nameof(batch));
        RequireNonNegative(length, nameof(length));
        RequireNonNegative(features, nameof(features));
        var body = new MeanPoolingBody { X = x, Length = length, Features = features, Lengths = lengths, Y = y };
        CpuParallel.For(batch, ref body);
    }

    private struct MeanPoolingBody : ICpuParallelBody
    {
        public float* X, Y;
        public int* Lengths;
        public int Length, Features;

        public readonly void Invoke(int index, int worker)
        {
            int n = Features;
            int count = Lengths == null ? Length : Math.Min(Lengths[index], Length);
            var y = new Span<float>(Y + (long)index * n, n);
            y.Clear();
            float* x = X + (long)index * Length * n;
            for (int t = 0; t < count; t++)
                TensorPrimitives.Add(y, new ReadOnlySpan<float>(x + (long)t * n, n), y);
            if (count > 0)
                TensorPrimitives.Multiply(y, 1f / count, y);
        }
    }

    /// <summary>y = x / max(‖x‖₂, ε) for each of <paramref name="rows"/> rows of <paramref name="features"/> (y may equal x).</summary>
    public static void L2Normalize(float* x, int rows, int features, float epsilon, float* y)
    {
        RequireNonNegative(rows, nameof(rows));
        RequireNonNegative(features, nameof(features));
        var body = new L2NormalizeBody { X = x, Features = features, Epsilon = epsilon, Y = y, Rows = rows };
        CpuParallel.For((rows + NormRowsPerItem - 1) / NormRowsPerItem, ref body);
    }

    private struct L2NormalizeBody : ICpuParallelBody
    {
        public float* X, Y;
        public int Rows, Features;
        public float Epsilon;

        public readonly void Invoke(int index, int worker)
        {
            int n = Features;
            int end = Math.Min(Rows, (index + 1) * NormRowsPerItem);
            for (int row = index * NormRowsPerItem; row < end; row++)
            {
                var x = new ReadOnlySpan<float>(X + (long)row * n, n);
                // The sum of squares in double: a row of large values must not overflow, nor a tiny one underflow, before the root.
                double squares = 0;
                foreach (float v in x)
                    squares += (double)v * v;
                float scale = (float)(1.0 / Math.Max(Math.Sqrt(squares), Epsilon));
                TensorPrimitives.Multiply(x, scale, new Span<float>(Y + (long)row * n, n));
            }
        }
    }
}

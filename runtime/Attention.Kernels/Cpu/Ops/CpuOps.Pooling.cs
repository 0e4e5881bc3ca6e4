using System.Runtime.Intrinsics;

namespace Attention.Kernels.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>
    /// Additive attention pooling over time, in one streaming pass with an online softmax:
    /// score_t = hidden == 0 ? u·x_t : u·tanh(W x_t + b); w = softmax_t(score); y[b] = Σ_t w_t x_t.
    /// </summary>
    /// <param name="x">Input [batch, length, features].</param>
    /// <param name="batch">Batch rows.</param>
    /// <param name="length">Time steps (0 gives y = 0).</param>
    /// <param name="features">Features per step.</param>
    /// <param name="u">Score vector [hidden == 0 ? features : hidden].</param>
    /// <param name="w">Projection [hidden, features] (unused when hidden == 0).</param>
    /// <param name="b">Projection bias [hidden], or null for zeros.</param>
    /// <param name="hidden">Width of the tanh projection; 0 scores the input directly.</param>
    /// <param name="y">Output [batch, features].</param>
    /// <param name="weightsOut">Receives the softmax weights [batch, length], or null.</param>
    /// <remarks>Long sequences are split into time chunks whose partial (max, sum, Σ) are merged as in flash decoding, so a
    /// single batch row still uses every core; x is still read once.</remarks>
    public static void AttentionPooling(float* x, int batch, int length, int features, float* u, float* w, float* b, int hidden,
        float* y, float* weightsOut = null)
    {
        RequireNonNegative(batch, nameof(batch));
        RequireNonNegative(length, nameof(length));
        RequireNonNegative(features, nameof(features));
        RequireNonNegative(hidden, nameof(hidden));
        var level = new PoolLevel { U = u, W = w, B = b, Hidden = hidden };
        if (Simd.UseVector512)
            Pool<Vector512<float>>(x, batch, length, features, level, y, weightsOut);
        else
            Pool<Vector256<float>>(x, batch, length, features, level, y, weightsOut);
    }

    /// <summary>
    /// Hierarchical attention: tokens are pooled within each segment (word level: u1, w1, b1, hidden1, as in
    /// <see cref="AttentionPooling"/>), then the segment vectors are pooled (sentence level: u2, w2, b2, hidden2).
    /// Segment s of batch row b is [offsets[b·(segments+1)+s], offsets[b·(segments+1)+s+1]); an empty segment gives a zero
    /// vector and is left out of the sentence level; a row without tokens gives y = 0.
    /// </summary>
    /// <param name="x">Input [batch, length, features].</param>
    /// <param name="batch">Batch rows.</param>
    /// <param name="length">Time steps.</param>
    /// <param name="features">Features per step.</param>
    /// <param name="offsets">Segment boundaries [batch, segments + 1], non-decreasing within [0, length].</param>
    /// <param name="segments">Segments per row.</param>
    /// <param name="u1">Word-level score vector.</param>
    /// <param name="w1">Word-level projection [hidden1, features].</param>
    /// <param name="b1">Word-level bias [hidden1], or null.</param>
    /// <param name="hidden1">Word-level projection width (0: score the tokens directly).</param>
    /// <param name="u2">Sentence-level score vector.</param>
    /// <param name="w2">Sentence-level projection [hidden2, features].</param>
    /// <param name="b2">Sentence-level bias [hidden2], or null.</param>
    /// <param name="hidden2">Sentence-level projection width (0: score the segment vectors directly).</param>
    /// <param name="y">Output [batch, features].</param>
    /// <param name="segmentVectorsOut">Receives the segment vectors [batch, segments, features], or null.</param>
    /// <exception cref="ArgumentException">The offsets are not non-decreasing within [0, length].</exception>
    public static void HierarchicalAttention(float* x, int batch, int length, int features, int* offsets, int segments,
        float* u1, float* w1, float* b1, int hidden1, float* u2, float* w2, float* b2, int hidden2, float* y, float* segmentVectorsOut = null)
    {
        RequireNonNegative(batch, nameof(batch));
        RequireNonNegative(length, nameof(length));
        RequireNonNegative(features, nameof(features));
        RequireNonNegative(segments, nameof(segments));
        RequireNonNegative(hidden1, nameof(hidden1));
        RequireNonNegative(hidden2, nameof(hidden2));
        GraphMath.ValidateSegmentOffsets(new ReadOnlySpan<int>(offsets, checked(batch * (segments + 1))), batch, segments, length, nameof(offsets));
        float* vectors = segmentVectorsOut != null ? segmentVectorsOut : CallerFloats((long)batch * segments * features);
        var words = new PoolLevel { U = u1, W = w1, B = b1, Hidden = hidden1 };
        var sentences = new PoolLevel { U = u2, W = w2, B = b2, Hidden = hidden2 };
        if (Simd.UseVector512)
            Hierarchical<Vector512<float>>(x, batch, length, features, offsets, segments, words, sentences, y, vectors);
        else
            Hierarchical<Vector256<float>>(x, batch, length, features, offsets, segments, words, sentences, y, vectors);
    }

    /// <summary>Parameters of one pooling level.</summary>
    private struct PoolLevel
    {
        public float* U, W, B;
        public int Hidden;
    }

    /// <summary>Running state of one online softmax: max score, Σ e^(s − max) and Σ e^(s − max)·x in <c>acc</c>.</summary>
    private struct PoolState
    {
        public float Max, Sum;

        public static PoolState Empty => new() { Max = float.NegativeInfinity, Sum = 0f };
    }

    /// <summary>The score of one token: u·x, or u·tanh(W x + b) with the projection in <paramref name="hiddenScratch"/>.</summary>
    private static float PoolScore<TVec>(float* token, int features, in PoolLevel level, float* hiddenScratch) where TVec : struct
    {
        if (level.Hidden == 0)
            return Dot<TVec>(level.U, token, features);
        MatVec<TVec>(level.W, level.Hidden, features, token, level.B, hiddenScratch);
        int w = Simd.Count<TVec>(), h = level.Hidden, i = 0;
        for (; i + w <= h; i += w)
            Simd.Store(SimdMath.Tanh(Simd.Load<TVec>(hiddenScratch + i)), hiddenScratch + i);
        if (i < h)
            SimdMath.StoreTail(SimdMath.Tanh(SimdMath.LoadTail<TVec>(hiddenScratch + i, h - i)), hiddenScratch + i, h - i);
        return Dot<TVec>(level.U, hiddenScratch, h);
    }

    /// <summary>
    /// Streams <paramref name="count"/> consecutive tokens into the online softmax: when a score raises the max, the sum and
    /// <paramref name="acc"/> are rescaled once; otherwise each token costs one exp and one axpy. Raw scores go to
    /// <paramref name="scoresOut"/> when it is not null.
    /// </summary>
    private static void PoolStream<TVec>(float* tokens, int count, int features, in PoolLevel level, float* hiddenScratch,
        float* acc, ref PoolState state, float* scoresOut) where TVec : struct
    {
        for (int t = 0; t < count; t++)
        {
            float* token = tokens + (long)t * features;
            float score = PoolScore<TVec>(token, features, level, hiddenScratch);
            if (scoresOut != null)
                scoresOut[t] = score;
            float p;
            if (score > state.Max)
            {
                float correction = MathF.Exp(state.Max - score); // 0 for the first token
                state.Sum *= correction;
                Axpby<TVec>(acc, correction, null, 0f, features);
                state.Max = score;
                p = 1f;
            }
            else
            {
                p = MathF.Exp(score - state.Max);
            }
            state.Sum += p;
            Axpby<TVec>(acc, 1f, token, p, features);
        }
    }

    /// <summary>acc = a·acc + b·x (x may be null: acc = a·acc).</summary>
    private static void Axpby<TVec>(float* acc, float a, float* x, float b, int count) where TVec : struct
    {
        int w = Simd.Count<TVec>(), i = 0;
        var va = Simd.Broadcast<TVec>(a);
        var vb = Simd.Broadcast<TVec>(b);
        for (; i + w <= count; i += w)
        {
            TVec v = Simd.Multiply(Simd.Load<TVec>(acc + i), va);
            if (x != null)
                v = Simd.Fma(Simd.Load<TVec>(x + i), vb, v);
            Simd.Store(v, acc + i);
        }
        if (i < count)
        {
            TVec v = Simd.Multiply(SimdMath.LoadTail<TVec>(acc + i, count - i), va);
            if (x != null)
                v = Simd.Fma(SimdMath.LoadTail<TVec>(x + i, count - i), vb, v);
            SimdMath.StoreTail(v, acc + i, count - i);
        }
    }

    /// <summary>Time steps below which a pooled row is not split further.</summary>
    private const int PoolMinChunk = 64;

    private static void Pool<TVec>(float* x, int batch, int length, int features, PoolLevel level, float* y, float* weightsOut)
        where TVec : struct
    {
        if (batch == 0)
            return;
        int chunks = Math.Clamp((4 * CpuParallel.WorkerCount + batch - 1) / batch, 1, Math.Max(1, (length + PoolMinChunk - 1) / PoolMinChunk));
        long stride = features + 2L; // per (row, chunk): max, sum, acc[features]
        float* partials = CallerFloats(batch * chunks * stride);
        var body = new PoolBody<TVec> { X = x, Length = length, Features = features, Level = level, Chunks = chunks, Partials = partials, Scores = weightsOut };
        CpuParallel.For(batch * chunks, ref body);

        // Merge the chunks of each row (flash-decoding style), then normalize the stored scores into weights.
        for (int row = 0; row < batch; row++)
        {
            float* p = partials + (long)row * chunks * stride;
            float max = float.NegativeInfinity;
            for (int c = 0; c < chunks; c++)
                max = Math.Max(max, p[c * stride]);
            float sum = 0;
            for (int c = 0; c < chunks; c++)
                sum += p[c * stride] == float.NegativeInfinity ? 0f : p[c * stride + 1] * MathF.Exp(p[c * stride] - max);
            float* output = y + (long)row * features;
            new Span<float>(output, features).Clear();
            if (sum == 0)
                continue; // no tokens: y = 0
            for (int c = 0; c < chunks; c++)
                if (p[c * stride] != float.NegativeInfinity)
                    Axpby<TVec>(output, 1f, p + c * stride + 2, MathF.Exp(p[c * stride] - max) / sum, features);
            if (weightsOut != null)
            {
                float* weights = weightsOut + (long)row * length;
                for (int t = 0; t < length; t++)
                    weights[t] = MathF.Exp(weights[t] - max) / sum;
            }
        }
    }

    /// <summary>One time chunk of one batch row of <see cref="AttentionPooling"/>.</summary>
    private struct PoolBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, Partials, Scores;
        public int Length, Features, Chunks;
        public PoolLevel Level;

        public void Invoke(int index, int worker)
        {
            int row = index / Chunks, chunk = index % Chunks;
            int start = (int)((long)Length * chunk / Chunks), end = (int)((long)Length * (chunk + 1) / Chunks);
            float* partial = Partials + (long)index * (Features + 2);
            float* acc = partial + 2;
            new Span<float>(acc, Features).Clear();
            var state = PoolState.Empty;
            float* hiddenScratch = Level.Hidden > 0 ? CpuScratch.Floats(worker, Level.Hidden) : null;
            PoolStream<TVec>(X + ((long)row * Length + start) * Features, end - start, Features, Level, hiddenScratch, acc, ref state,
                Scores == null ? null : Scores + (long)row * Length + start);
            partial[0] = state.Max;
            partial[1] = state.Sum;
        }
    }

    private static void Hierarchical<TVec>(float* x, int batch, int length, int features, int* offsets, int segments,
        PoolLevel words, PoolLevel sentences, float* y, float* vectors) where TVec : struct
    {
        var body = new HierarchicalBody<TVec> { X = x, Length = length, Features = features, Offsets = offsets, Segments = segments, Words = words, Sentences = sentences, Y = y, Vectors = vectors };
        body.SentenceLevel = false;
        CpuParallel.For(batch * segments, ref body);
        body.SentenceLevel = true;
        CpuParallel.For(batch, ref body);
    }

    /// <summary>Word level: one (row, segment) per item, into its segment vector. Sentence level: one row per item, over its non-empty segments.</summary>
    private struct HierarchicalBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, Y, Vectors;
        public int* Offsets;
        public int Length, Features, Segments;
        public PoolLevel Words, Sentences;
        public bool SentenceLevel;

        public void Invoke(int index, int worker)
        {
            var state = PoolState.Empty;
            if (!SentenceLevel)
            {
                int row = index / Segments, segment = index % Segments;
                int* o = Offsets + (long)row * (Segments + 1) + segment;
                float* vector = Vectors + (long)index * Features;
                new Span<float>(vector, Features).Clear();
                float* hiddenScratch = Words.Hidden > 0 ? CpuScratch.Floats(worker, Words.Hidden) : null;
                PoolStream<TVec>(X + ((long)row * Length + o[0]) * Features, o[1] - o[0], Features, Words, hiddenScratch, vector, ref state, null);
                if (state.Sum > 0)
                    Axpby<TVec>(vector, 1f / state.Sum, null, 0f, Features);
            }
            else
            {
                int* o = Offsets + (long)index * (Segments + 1);
                float* output = Y + (long)index * Features;
                new Span<float>(output, Features).Clear();
                float* hiddenScratch = Sentences.Hidden > 0 ? CpuScratch.Floats(worker, Sentences.Hidden) : null;
                for (int s = 0; s < Segments; s++)
                    if (o[s + 1] > o[s])
                        PoolStream<TVec>(Vectors + ((long)index * Segments + s) * Features, 1, Features, Sentences, hiddenScratch, output, ref state, null);
                if (state.Sum > 0)
                    Axpby<TVec>(output, 1f / state.Sum, null, 0f, Features);
            }
        }
    }
}

using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>Helpers of the row kernels (one group per row, a power-of-two group of at least a warp).</summary>
public static class RowReduction
{
    /// <summary>
    /// Σ value over the group, returned to every thread. Every thread of the group must call it: it holds barriers, so it
    /// must never sit under a condition that differs between threads or is read from memory.
    /// </summary>
    public static float GroupSum(float value)
    {
        float total = GroupExtensions.AllReduce<float, AddFloat>(value);
        Group.Barrier(); // the reduction's shared memory is reused by the next call
        return total;
    }

    /// <summary>
    /// The second half of LayerNorm/RMSNorm for one row, given its mean (0 for RMSNorm): the squares about the mean, then
    /// y = (x − mean)/√(var + ε)·γ + β, each thread its own features. <paramref name="y"/> may be <paramref name="x"/> (each
    /// element is read, then written, by the same thread). Every thread of the group must call it (it holds barriers).
    /// </summary>
    public static void NormalizeRow(ArrayView<float> x, ArrayView<float> y, long start, int features, float mean, float epsilon,
        ArrayView<float> gamma, int hasGamma, ArrayView<float> beta, int hasBeta)
    {
        int lane = Group.IdxX, size = Group.DimX;
        float squares = 0f;
        for (int f = lane; f < features; f += size)
        {
            float d = x[start + f] - mean;
            squares += d * d;
        }
        float scale = 1f / XMath.Sqrt(GroupSum(squares) / features + epsilon);
        for (int f = lane; f < features; f += size)
        {
            float v = (x[start + f] - mean) * scale;
            if (hasGamma != 0)
                v *= gamma[f];
            if (hasBeta != 0)
                v += beta[f];
            y[start + f] = v;
        }
    }
}

/// <summary>
/// LayerNorm (centered, biased variance): y = (x − mean)/√(var + ε)·γ + β; RMSNorm: y = x/√(mean(x²) + ε)·γ. One group
/// per row; statistics in two passes over the row (the mean, then the squares about it), like the CPU op.
/// </summary>
public static class NormKernel
{
    /// <summary>Sizes and switches of one launch (flags 0 or 1; γ and β absent mean ones and zeros).</summary>
    public readonly record struct Sizes(int Features, float Epsilon, int Centered, int HasGamma, int HasBeta);

    /// <summary>The kernel; grid = rows, group = a power of two.</summary>
    public static void Run(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, Sizes sizes)
    {
        int lane = Group.IdxX, size = Group.DimX, features = sizes.Features;
        long start = (long)Grid.IdxX * features;

        float mean = 0f;
        if (sizes.Centered != 0) // uniform across the launch: the barriers inside are reached by every thread
        {
            float sum = 0f;
            for (int f = lane; f < features; f += size)
                sum += x[start + f];
            mean = RowReduction.GroupSum(sum) / features;
        }
        RowReduction.NormalizeRow(x, y, start, features, mean, sizes.Epsilon, gamma, sizes.HasGamma, beta, sizes.HasBeta);
    }
}

/// <summary>
/// Attention pooling and hierarchical attention: an online softmax over tokens in one streaming pass, one group per
/// pooled vector. A level scores a token by u·x (hidden 0) or u·tanh(W x + b) (W [hidden, features], b [hidden] or
/// absent); the group shares each score (a group reduction) and each thread accumulates its own features of the output
/// directly in the output row.
/// </summary>
public static class PoolingKernels
{
    /// <summary>Sizes of a launch: the tokens' length per row (attention pooling), features, segments (hierarchical), and the level's hidden width and bias flag.</summary>
    public readonly record struct Sizes(int Length, int Features, int Segments, int Hidden, int HasBias);

    /// <summary>Running max score and Σ e^(s − max) of one online softmax (acc lives in the output row).</summary>
    public struct State
    {
        public float Max;
        public float Sum;
    }

    /// <summary>The score of the token at <paramref name="token"/>, the same value in every thread (a group reduction: every thread must call it).</summary>
    public static float Score(ArrayView<float> tokens, long token, ArrayView<float> u, ArrayView<float> w, ArrayView<float> b, Sizes sizes)
    {
        int lane = Group.IdxX, size = Group.DimX, features = sizes.Features;
        float partial = 0f;
        if (sizes.Hidden == 0)
        {
            for (int f = lane; f < features; f += size)
                partial += u[f] * tokens[token + f];
        }
        else
        {
            // One hidden unit per thread: its row of W against the token.
            for (int j = lane; j < sizes.Hidden; j += size)
            {
                long row = (long)j * features;
                float a = 0f;
                for (int f = 0; f < features; f++)
                    a += w[row + f] * tokens[token + f];
                if (sizes.HasBias != 0)
                    a += b[j];
                partial += u[j] * OpMath.Tanh(a);
            }
        }
        return RowReduction.GroupSum(partial);
    }

    /// <summary>
    /// Adds a scored token to the online softmax: a score that raises the max rescales the sum and this thread's features
    /// of <paramref name="output"/> once; otherwise the token costs one exp and one axpy. No barrier: it may sit under a
    /// data-dependent condition.
    /// </summary>
    public static void Update(float score, ArrayView<float> tokens, long token, ArrayView<float> output, long outputAt, int features, ref State state)
    {
        int lane = Group.IdxX, size = Group.DimX;
        float p = 1f;
        if (score > state.Max)
        {
            float correction = XMath.Exp(state.Max - score); // 0 for the first token
            state.Sum *= correction;
            for (int f = lane; f < features; f += size)
                output[outputAt + f] *= correction;
            state.Max = score;
        }
        else
        {
            p = XMath.Exp(score - state.Max);
        }
        state.Sum += p;
        for (int f = lane; f < features; f += size)
            output[outputAt + f] += p * tokens[token + f];
    }

    /// <summary>Zeros this thread's features of the output row (the accumulator starts empty).</summary>
    public static void Clear(ArrayView<float> output, long outputAt, int features)
    {
        for (int f = Group.IdxX; f < features; f += Group.DimX)
            output[outputAt + f] = 0f;
    }

    /// <summary>output = acc / sum (zeros when no token was added).</summary>
    public static void Finish(ArrayView<float> output, long outputAt, int features, float sum)
    {
        float inverse = sum > 0f ? 1f / sum : 0f;
        for (int f = Group.IdxX; f < features; f += Group.DimX)
            output[outputAt + f] *= inverse;
    }

    /// <summary>y[b] = Σ_t softmax_t(score(x[b, t]))·x[b, t]; x [batch, length, features], y [batch, features]; grid = batch.</summary>
    public static void AttentionPooling(ArrayView<float> x, ArrayView<float> u, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y, Sizes sizes)
    {
        long row = Grid.IdxX;
        PoolTokens(x, row * sizes.Length * sizes.Features, sizes.Length, u, w, b, y, row * sizes.Features, sizes);
    }

    /// <summary>
    /// One streaming pass of attention pooling over <paramref name="count"/> consecutive tokens from element
    /// <paramref name="first"/> of x into the vector at <paramref name="outputAt"/> (zeros when count is 0): each token's
    /// score is a group reduction, then the online softmax updates the output. Uniform across the group (barriers).
    /// </summary>
    private static void PoolTokens(ArrayView<float> x, long first, int count, ArrayView<float> u, ArrayView<float> w, ArrayView<float> b,
        ArrayView<float> output, long outputAt, Sizes sizes)
    {
        int features = sizes.Features;
        Clear(output, outputAt, features);
        var state = new State { Max = float.NegativeInfinity, Sum = 0f };
        for (int t = 0; t < count; t++)
        {
            long token = first + (long)t * features;
            Update(Score(x, token, u, w, b, sizes), x, token, output, outputAt, features, ref state);
        }
        Finish(output, outputAt, features, state.Sum);
    }

    /// <summary>
    /// Hierarchical attention, word level: group b·segments + s pools the tokens [offsets[b, s], offsets[b, s + 1]) of row b
    /// into vectors[b, s] (zeros for an empty segment). The token count is the same for the whole group, so every thread
    /// runs the same number of score reductions.
    /// </summary>
    public static void HierarchicalWords(ArrayView<float> x, ArrayView<int> offsets, ArrayView<float> u, ArrayView<float> w, ArrayView<float> b,
        ArrayView<float> vectors, Sizes sizes)
    {
        int features = sizes.Features;
        int item = Grid.IdxX;
        int row = item / sizes.Segments, segment = item - row * sizes.Segments;
        long o = (long)row * (sizes.Segments + 1) + segment;
        int start = offsets[o], end = offsets[o + 1];
        PoolTokens(x, ((long)row * sizes.Length + start) * features, end - start, u, w, b, vectors, (long)item * features, sizes);
    }

    /// <summary>
    /// Hierarchical attention, segment level: group b pools the vectors of row b's non-empty segments into y[b]. Every
    /// segment is scored, empty ones too (their vector is zeros): the score's barriers must not sit under a condition read
    /// from memory (PoCL once miscompiled that form of the device-C kernel); only the update is conditional.
    /// </summary>
    public static void HierarchicalSegments(ArrayView<float> vectors, ArrayView<int> offsets, ArrayView<float> u, ArrayView<float> w, ArrayView<float> b,
        ArrayView<float> y, Sizes sizes)
    {
        int features = sizes.Features;
        long row = Grid.IdxX;
        long o = row * (sizes.Segments + 1), outputAt = row * features;
        Clear(y, outputAt, features);
        var state = new State { Max = float.NegativeInfinity, Sum = 0f };
        for (int s = 0; s < sizes.Segments; s++)
        {
            long vector = (row * sizes.Segments + s) * features;
            float score = Score(vectors, vector, u, w, b, sizes);
            if (offsets[o + s + 1] > offsets[o + s])
                Update(score, vectors, vector, y, outputAt, features, ref state);
        }
        Finish(y, outputAt, features, state.Sum);
    }
}

/// <summary>
/// Squeeze-and-excitation, first kernel (one group per batch row): s = mean_t x[b, t, :]; h = relu(W1 s + b1)
/// (W1 [reduced, channels]); excitation[b] = sigmoid(W2 h + b2) (W2 [channels, reduced]). The means and h live in
/// global scratch (any width fits), ordered between the phases by group barriers; the second kernel is
/// <see cref="ElementwiseKernels.Excite"/>.
/// </summary>
public static class SqueezeKernel
{
    /// <summary>Sizes and bias flags of one launch.</summary>
    public readonly record struct Sizes(int Length, int Channels, int Reduced, int HasB1, int HasB2);

    /// <summary>The kernel; grid = batch.</summary>
    public static void Run(ArrayView<float> x, ArrayView<float> w1, ArrayView<float> b1, ArrayView<float> w2, ArrayView<float> b2,
        ArrayView<float> excitation, ArrayView<float> hidden, Sizes sizes)
    {
        int lane = Group.IdxX, size = Group.DimX, channels = sizes.Channels, reduced = sizes.Reduced;
        long row = Grid.IdxX;
        long first = row * sizes.Length * channels, e = row * channels, h = row * reduced;

        // The mean over time, one channel per thread (neighbours read neighbouring channels).
        float inverseLength = 1f / sizes.Length;
        for (int c = lane; c < channels; c += size)
        {
            float sum = 0f;
            for (int t = 0; t < sizes.Length; t++)
                sum += x[first + (long)t * channels + c];
            excitation[e + c] = sum * inverseLength;
        }
        Group.Barrier(); // every thread reads every channel's mean
        for (int j = lane; j < reduced; j += size)
        {
            long weights = (long)j * channels;
            float a = 0f;
            for (int c = 0; c < channels; c++)
                a += w1[weights + c] * excitation[e + c];
            if (sizes.HasB1 != 0)
                a += b1[j];
            hidden[h + j] = XMath.Max(a, 0f);
        }
        Group.Barrier(); // the means are overwritten below, and every thread reads all of h
        for (int c = lane; c < channels; c += size)
        {
            long weights = (long)c * reduced;
            float a = 0f;
            for (int j = 0; j < reduced; j++)
                a += w2[weights + j] * hidden[h + j];
            if (sizes.HasB2 != 0)
                a += b2[c];
            excitation[e + c] = OpMath.Sigmoid(a);
        }
    }
}

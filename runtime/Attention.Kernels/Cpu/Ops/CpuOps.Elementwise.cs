using System.Runtime.Intrinsics;

namespace Attention.Kernels.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>y[i] = activation(x[i]) over <paramref name="count"/> floats. <paramref name="y"/> may equal <paramref name="x"/>.</summary>
    public static void Activate(float* x, long count, Activation activation, float* y)
    {
        RequireNonNegative(count, nameof(count));
        if (activation == Activation.None && x == y)
            return;
        if (Simd.UseVector512)
            Map<Vector512<float>>(x, null, count, activation, y);
        else
            Map<Vector256<float>>(x, null, count, activation, y);
    }

    /// <summary>y[i] = a[i] + b[i] over <paramref name="count"/> floats (a residual add). <paramref name="y"/> may equal a or b.</summary>
    public static void Add(float* a, float* b, long count, float* y)
    {
        RequireNonNegative(count, nameof(count));
        if (Simd.UseVector512)
            Map<Vector512<float>>(a, b, count, Activation.None, y);
        else
            Map<Vector256<float>>(a, b, count, Activation.None, y);
    }

    private static void Map<TVec>(float* x, float* other, long count, Activation activation, float* y) where TVec : struct
    {
        var body = new MapBody<TVec> { X = x, Other = other, Count = count, Activation = activation, Y = y };
        CpuParallel.For(ChunkCount(count), ref body);
    }

    /// <summary>y = act(x) (+ other): one chunk of <see cref="ElementChunk"/> floats per item.</summary>
    private struct MapBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, Other, Y;
        public long Count;
        public Activation Activation;

        public void Invoke(int index, int worker)
        {
            long start = (long)index * ElementChunk;
            int count = (int)Math.Min(ElementChunk, Count - start);
            float* x = X + start, y = Y + start, other = Other == null ? null : Other + start;
            int w = Simd.Count<TVec>();
            int i = 0;
            for (; i + w <= count; i += w)
            {
                TVec v = SimdMath.Activate(Simd.Load<TVec>(x + i), Activation);
                if (other != null)
                    v = Simd.Add(v, Simd.Load<TVec>(other + i));
                Simd.Store(v, y + i);
            }
            if (i < count)
            {
                TVec v = SimdMath.Activate(SimdMath.LoadTail<TVec>(x + i, count - i), Activation);
                if (other != null)
                    v = Simd.Add(v, SimdMath.LoadTail<TVec>(other + i, count - i));
                SimdMath.StoreTail(v, y + i, count - i);
            }
        }
    }

    /// <summary>
    /// Learnable positional weighting with a skip path: y[b, t, f] = x[b, t, f]·(1 + p[t, f]).
    /// x and y are [batch, length, features] (y may equal x); p is [maxLength, features].
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="length"/> exceeds <paramref name="maxLength"/>.</exception>
    public static void PositionalWeighting(float* x, int batch, int length, int features, float* p, int maxLength, float* y)
    {
        RequireNonNegative(batch, nameof(batch));
        RequireNonNegative(length, nameof(length));
        RequireNonNegative(features, nameof(features));
        if (length > maxLength)
            throw new ArgumentException($"length {length} exceeds the positional table's maxLength {maxLength}.", nameof(length));
        if (Simd.UseVector512)
            Positional<Vector512<float>>(x, p, y, length, features, (long)batch * length);
        else
            Positional<Vector256<float>>(x, p, y, length, features, (long)batch * length);
    }

    private const int PositionalRowsPerItem = 16;

    private static void Positional<TVec>(float* x, float* p, float* y, int length, int features, long rows) where TVec : struct
    {
        var body = new PositionalBody<TVec> { X = x, P = p, Y = y, Length = length, Features = features, Rows = rows };
        CpuParallel.For((int)((rows + PositionalRowsPerItem - 1) / PositionalRowsPerItem), ref body);
    }

    private struct PositionalBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, P, Y;
        public int Length, Features;
        public long Rows;

        public void Invoke(int index, int worker)
        {
            int w = Simd.Count<TVec>();
            var one = Simd.Broadcast<TVec>(1f);
            long end = Math.Min(Rows, (long)(index + 1) * PositionalRowsPerItem);
            for (long row = (long)index * PositionalRowsPerItem; row < end; row++)
            {
                float* x = X + row * Features, y = Y + row * Features, p = P + (row % Length) * Features;
                int f = 0;
                for (; f + w <= Features; f += w)
                    Simd.Store(Simd.Multiply(Simd.Load<TVec>(x + f), Simd.Add(one, Simd.Load<TVec>(p + f))), y + f);
                if (f < Features)
                {
                    int n = Features - f;
                    SimdMath.StoreTail(Simd.Multiply(SimdMath.LoadTail<TVec>(x + f, n), Simd.Add(one, SimdMath.LoadTail<TVec>(p + f, n))), y + f, n);
                }
            }
        }
    }

    /// <summary>
    /// Layer-wise adaptive attention: y = gamma·Σ_l softmax(logits)_l·layers[l], each layer <paramref name="count"/> floats.
    /// <paramref name="y"/> may equal one of the layers.
    /// </summary>
    /// <param name="layers">Addresses of the layer outputs (float*), at least one.</param>
    /// <param name="count">Floats per layer.</param>
    /// <param name="logits">One logit per layer.</param>
    /// <param name="gamma">Global scale.</param>
    /// <param name="y">Output, <paramref name="count"/> floats.</param>
    public static void LayerwiseMix(ReadOnlySpan<nint> layers, long count, float* logits, float gamma, float* y)
    {
        if (layers.Length == 0)
            throw new ArgumentException("LayerwiseMix needs at least one layer.", nameof(layers));
        // Coefficients gamma·softmax(logits), computed in double, once (GraphMath: the same on every backend).
        Span<float> coefficients = layers.Length <= 64 ? stackalloc float[layers.Length] : new float[layers.Length];
        GraphMath.MixCoefficients(new ReadOnlySpan<float>(logits, layers.Length), gamma, coefficients);
        LayerwiseMix(layers, coefficients, count, y);
    }

    /// <summary>y = Σ_l coefficients[l]·layers[l] over <paramref name="count"/> floats (coefficients already computed).</summary>
    public static void LayerwiseMix(ReadOnlySpan<nint> layers, ReadOnlySpan<float> coefficients, long count, float* y)
    {
        RequireNonNegative(count, nameof(count));
        if (layers.Length == 0 || coefficients.Length != layers.Length)
            throw new ArgumentException($"LayerwiseMix needs one coefficient per layer and at least one layer ({layers.Length} layers, {coefficients.Length} coefficients).", nameof(layers));
        int layerCount = layers.Length;
        // The coefficients, then the layer pointers, in caller scratch (no allocation per call).
        float* scratch = CallerFloats(layerCount + 2L * layerCount);
        nint* pointers = (nint*)(scratch + layerCount + (layerCount & 1));
        coefficients.CopyTo(new Span<float>(scratch, layerCount));
        layers.CopyTo(new Span<nint>(pointers, layerCount));
        Mix(pointers, layerCount, scratch, count, y);
    }

    private static void Mix(nint* pointers, int layerCount, float* coefficients, long count, float* y)
    {
        if (Simd.UseVector512)
            Mix<Vector512<float>>((float**)pointers, layerCount, coefficients, count, y);
        else
            Mix<Vector256<float>>((float**)pointers, layerCount, coefficients, count, y);
    }

    private static void Mix<TVec>(float** layers, int layerCount, float* coefficients, long count, float* y) where TVec : struct
    {
        var body = new MixBody<TVec> { Layers = layers, LayerCount = layerCount, Coefficients = coefficients, Count = count, Y = y };
        CpuParallel.For(ChunkCount(count), ref body);
    }

    private struct MixBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float** Layers;
        public int LayerCount;
        public float* Coefficients, Y;
        public long Count;

        public void Invoke(int index, int worker)
        {
            long start = (long)index * ElementChunk;
            int count = (int)Math.Min(ElementChunk, Count - start);
            int w = Simd.Count<TVec>();
            int i = 0;
            // Every layer is read at position i before y[i] is written, so y may alias a layer.
            for (; i + w <= count; i += w)
            {
                TVec acc = default;
                for (int l = 0; l < LayerCount; l++)
                    acc = Simd.Fma(Simd.Broadcast<TVec>(Coefficients[l]), Simd.Load<TVec>(Layers[l] + start + i), acc);
                Simd.Store(acc, Y + start + i);
            }
            if (i < count)
            {
                TVec acc = default;
                for (int l = 0; l < LayerCount; l++)
                    acc = Simd.Fma(Simd.Broadcast<TVec>(Coefficients[l]), SimdMath.LoadTail<TVec>(Layers[l] + start + i, count - i), acc);
                SimdMath.StoreTail(acc, Y + start + i, count - i);
            }
        }
    }
}

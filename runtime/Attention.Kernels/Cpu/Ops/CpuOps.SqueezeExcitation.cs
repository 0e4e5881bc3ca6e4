using System.Runtime.Intrinsics;

namespace Attention.Kernels.Cpu;

public static unsafe partial class CpuOps
{
    /// <summary>
    /// Squeeze-and-excitation over channels: s = mean_t x[b, t, :]; e = sigmoid(W2·relu(W1·s + b1) + b2); y[b, t, c] = x[b, t, c]·e[b, c].
    /// </summary>
    /// <param name="x">Input [batch, length, channels].</param>
    /// <param name="batch">Batch rows.</param>
    /// <param name="length">Time steps.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="w1">Squeeze weight [reduced, channels].</param>
    /// <param name="b1">Squeeze bias [reduced], or null.</param>
    /// <param name="reduced">Bottleneck width.</param>
    /// <param name="w2">Excitation weight [channels, reduced].</param>
    /// <param name="b2">Excitation bias [channels], or null.</param>
    /// <param name="y">Output [batch, length, channels]; may equal x.</param>
    /// <remarks>Two parallel passes over x. Pass 1 sums time chunks; the item that finishes a batch row's last chunk
    /// (an atomic count per row) also runs that row's two small layers. Pass 2 scales.</remarks>
    public static void SqueezeExcitation(float* x, int batch, int length, int channels, float* w1, float* b1, int reduced,
        float* w2, float* b2, float* y)
    {
        RequireNonNegative(batch, nameof(batch));
        RequireNonNegative(length, nameof(length));
        RequireNonNegative(channels, nameof(channels));
        RequireNonNegative(reduced, nameof(reduced));
        if (batch == 0 || length == 0)
            return; // y is empty
        if (Simd.UseVector512)
            Excite<Vector512<float>>(x, batch, length, channels, w1, b1, reduced, w2, b2, y);
        else
            Excite<Vector256<float>>(x, batch, length, channels, w1, b1, reduced, w2, b2, y);
    }

    /// <summary>Time steps below which a row's pooling is not split further.</summary>
    private const int ExciteMinChunk = 32;

    private static void Excite<TVec>(float* x, int batch, int length, int channels, float* w1, float* b1, int reduced,
        float* w2, float* b2, float* y) where TVec : struct
    {
        int chunks = Math.Clamp((4 * CpuParallel.WorkerCount + batch - 1) / batch, 1, (length + ExciteMinChunk - 1) / ExciteMinChunk);
        long excitationFloats = (long)batch * channels, partialFloats = (long)batch * chunks * channels;
        float* excitation = CallerFloats(excitationFloats + partialFloats + batch);
        float* partials = excitation + excitationFloats;
        int* finished = (int*)(partials + partialFloats);
        new Span<int>(finished, batch).Clear();
        var body = new ExciteBody<TVec>
        {
            X = x, Y = y, Length = length, Channels = channels, Chunks = chunks, W1 = w1, B1 = b1, Reduced = reduced, W2 = w2, B2 = b2,
            Excitation = excitation, Partials = partials, Finished = finished, Scale = false,
        };
        CpuParallel.For(batch * chunks, ref body);
        body.Scale = true;
        CpuParallel.For(batch * chunks, ref body);
    }

    /// <summary>One time chunk of one batch row: pass 1 sums it (and the row's last finisher runs the two layers), pass 2 scales it.</summary>
    private struct ExciteBody<TVec> : ICpuParallelBody where TVec : struct
    {
        public float* X, Y, W1, B1, W2, B2, Excitation, Partials;
        public int* Finished;
        public int Length, Channels, Chunks, Reduced;
        public bool Scale;

        public void Invoke(int index, int worker)
        {
            int row = index / Chunks, chunk = index % Chunks, c = Channels;
            int start = (int)((long)Length * chunk / Chunks), end = (int)((long)Length * (chunk + 1) / Chunks);
            float* e = Excitation + (long)row * c;
            if (Scale)
            {
                for (int t = start; t < end; t++)
                {
                    long at = ((long)row * Length + t) * c;
                    Multiply<TVec>(X + at, e, Y + at, c);
                }
                return;
            }

            float* partial = Partials + (long)index * c;
            new Span<float>(partial, c).Clear();
            for (int t = start; t < end; t++)
                Axpby<TVec>(partial, 1f, X + ((long)row * Length + t) * c, 1f, c);
            if (Interlocked.Increment(ref Finished[row]) != Chunks)
                return;

            // Last chunk of this row: mean, then e = sigmoid(W2·relu(W1·s + b1) + b2).
            float* mean = CpuScratch.Floats(worker, (long)c + Reduced);
            float* hidden = mean + c;
            new Span<float>(mean, c).Clear();
            for (int k = 0; k < Chunks; k++)
                Axpby<TVec>(mean, 1f, Partials + ((long)row * Chunks + k) * c, 1f / Length, c);
            MatVec<TVec>(W1, Reduced, c, mean, B1, hidden);
            Epilogue<TVec>(hidden, Reduced, Activation.Relu, null, hidden);
            MatVec<TVec>(W2, c, Reduced, hidden, B2, e);
            int w = Simd.Count<TVec>(), i = 0;
            for (; i + w <= c; i += w)
                Simd.Store(SimdMath.Sigmoid(Simd.Load<TVec>(e + i)), e + i);
            if (i < c)
                SimdMath.StoreTail(SimdMath.Sigmoid(SimdMath.LoadTail<TVec>(e + i, c - i)), e + i, c - i);
        }
    }

    /// <summary>y[i] = a[i]·b[i] (y may equal a).</summary>
    private static void Multiply<TVec>(float* a, float* b, float* y, int count) where TVec : struct
    {
        int w = Simd.Count<TVec>(), i = 0;
        for (; i + w <= count; i += w)
            Simd.Store(Simd.Multiply(Simd.Load<TVec>(a + i), Simd.Load<TVec>(b + i)), y + i);
        if (i < count)
            SimdMath.StoreTail(Simd.Multiply(SimdMath.LoadTail<TVec>(a + i, count - i), SimdMath.LoadTail<TVec>(b + i, count - i)), y + i, count - i);
    }
}

namespace Attention.Kernels;

/// <summary>
/// The attention weights a fused kernel used, recomputed after the fact for one (batch, head): the fused kernels never
/// hold a Tq×Tk matrix, but with the log-sum-exp they save (<see cref="IAttentionKernel.HasLogSumExp"/>) each weight is
/// p_ij = exp(s_ij − lse_i), where s_ij = Scale·q_i·k_j with the kernel's masks and modifiers applied exactly as the
/// kernels apply them. The returned slice is the only Tq×Tk memory.
/// </summary>
public static class AttentionWeights
{
    /// <summary>
    /// softmax(Scale·q·kᵀ + masks/modifiers) of query head <paramref name="head"/> in batch <paramref name="batch"/>, as a
    /// [Tq, Tk] array, recomputed on the host from <paramref name="query"/>, <paramref name="key"/> and the kernel's
    /// <paramref name="logSumExp"/> (from a launch of the same kernel on the same tensors). A kernel whose modifiers read tensors
    /// (<see cref="IAttentionKernel.ModTensorCount"/>) takes that launch's tensors in <paramref name="modTensors"/>, as its
    /// <see cref="AttentionLaunch{T}.ModTensors"/> (in declaration order): they are read back to the host and the modifiers read
    /// them there, bounds-checked as in the kernels.
    /// </summary>
    /// <remarks>
    /// A pair the kernel hides (<see cref="IAttentionKernel.Mask"/> with its window and alignment, as
    /// <see cref="AttentionGeometry.IsVisible"/>; <see cref="IAttentionKernel.MaskMod"/>; a
    /// <see cref="IAttentionKernel.ScoreMod"/> returning −∞) is exactly 0, and so is every entry of a row that sees no key
    /// (log-sum-exp −∞). The other rows sum to 1 up to the log-sum-exp's fp32 rounding (about 1e-6). Scores are computed in
    /// fp64 from q and k (fp16 and bf16 widened exactly to fp32); a score modifier gets the score rounded to fp32, as in the kernels. Tensors on another
    /// device are read back in part: the batch's rows of q and k (BTHD), or the head's rows (BHTD), and the head's
    /// log-sum-exp row.
    /// </remarks>
    /// <typeparam name="TKernel">The generated kernel struct (<c>{Name}Kernel</c>) of a declaration with a log-sum-exp output.</typeparam>
    /// <exception cref="InvalidOperationException">The kernel has no log-sum-exp output.</exception>
    /// <exception cref="NotSupportedException">The kernel uses the graph-internal packed QKV layout, packed variable-length offsets or an attnMask tensor.</exception>
    /// <exception cref="ArgumentException">A tensor's shape does not fit the kernel or the other tensors, or <paramref name="modTensors"/> are not the kernel's.</exception>
    /// <exception cref="IndexOutOfRangeException">A modifier read outside one of <paramref name="modTensors"/> (the message names it, its shape and the index).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="head"/> is outside the tensors.</exception>
    public static float[,] Slice<TKernel>(Tensor<float> query, Tensor<float> key, Tensor<float> logSumExp, int batch, int head, ModTensorArgs modTensors = default)
        where TKernel : struct, IAttentionKernel => Compute<TKernel, float>(query, key, logSumExp, batch, head, realKeys: null, modTensors);

    /// <summary>
    /// As <see cref="Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, ModTensorArgs)"/> for a kernel with fp16 storage:
    /// q and k are widened to fp32 exactly, then the scores are computed in fp64.
    /// </summary>
    public static float[,] Slice<TKernel>(Tensor<Half> query, Tensor<Half> key, Tensor<float> logSumExp, int batch, int head, ModTensorArgs modTensors = default)
        where TKernel : struct, IAttentionKernel => Compute<TKernel, Half>(query, key, logSumExp, batch, head, realKeys: null, modTensors);

    /// <summary>
    /// As <see cref="Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, ModTensorArgs)"/> for a kernel with bf16 storage:
    /// q and k are widened to fp32 exactly, then the scores are computed in fp64.
    /// </summary>
    public static float[,] Slice<TKernel>(Tensor<BFloat16> query, Tensor<BFloat16> key, Tensor<float> logSumExp, int batch, int head, ModTensorArgs modTensors = default)
        where TKernel : struct, IAttentionKernel => Compute<TKernel, BFloat16>(query, key, logSumExp, batch, head, realKeys: null, modTensors);

    /// <summary>
    /// As <see cref="Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, ModTensorArgs)"/> for a launch with key padding
    /// (its keyLengths): <paramref name="realKeys"/> is this batch entry's length; the weights of the keys past it are 0, and
    /// the mask stays aligned on the full Tk, as in the kernels (docs/kernels/masks.md).
    /// </summary>
    public static float[,] Slice<TKernel>(Tensor<float> query, Tensor<float> key, Tensor<float> logSumExp, int batch, int head, int realKeys, ModTensorArgs modTensors = default)
        where TKernel : struct, IAttentionKernel => Compute<TKernel, float>(query, key, logSumExp, batch, head, realKeys, modTensors);

    /// <summary>As <see cref="Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, int, ModTensorArgs)"/> for fp16 storage.</summary>
    public static float[,] Slice<TKernel>(Tensor<Half> query, Tensor<Half> key, Tensor<float> logSumExp, int batch, int head, int realKeys, ModTensorArgs modTensors = default)
        where TKernel : struct, IAttentionKernel => Compute<TKernel, Half>(query, key, logSumExp, batch, head, realKeys, modTensors);

    /// <summary>As <see cref="Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, int, ModTensorArgs)"/> for bf16 storage.</summary>
    public static float[,] Slice<TKernel>(Tensor<BFloat16> query, Tensor<BFloat16> key, Tensor<float> logSumExp, int batch, int head, int realKeys, ModTensorArgs modTensors = default)
        where TKernel : struct, IAttentionKernel => Compute<TKernel, BFloat16>(query, key, logSumExp, batch, head, realKeys, modTensors);

    private static float[,] Compute<TKernel, T>(Tensor<T> query, Tensor<T> key, Tensor<float> logSumExp, int batch, int head, int? realKeys,
        in ModTensorArgs modTensors)
        where TKernel : struct, IAttentionKernel
        where T : unmanaged
    {
        string kernel = typeof(TKernel).Name;
        if (!TKernel.HasLogSumExp)
            throw new InvalidOperationException(
                $"Kernel {kernel} has no log-sum-exp output, so its attention weights cannot be recomputed: declare it with a fifth parameter 'Tensor<float> logSumExp'.");
        if (TKernel.Layout is not (KernelLayout.Bthd or KernelLayout.Bhtd))
            throw new NotSupportedException($"Kernel {kernel} uses the {TKernel.Layout} layout; attention weights are available for BTHD and BHTD kernels.");
        modTensors.ExpectFor<TKernel>(query.Device);
        if (TKernel.IsVarlen || TKernel.MaskTensor != MaskTensorKind.None || TKernel.DocumentMask || TKernel.PrefixLm)
            throw new NotSupportedException($"Kernel {kernel} takes {(TKernel.IsVarlen ? "packed variable-length offsets" : TKernel.DocumentMask ? "documentIds" : TKernel.PrefixLm ? "prefixLengths" : "an attnMask tensor")}; " +
                "its attention weights cannot be recomputed from q, k and the log-sum-exp alone yet (docs/kernels/attention-weights.md).");

        bool bthd = TKernel.Layout == KernelLayout.Bthd;
        int heads = TKernel.Heads, kvHeads = TKernel.KvHeads, headDim = TKernel.HeadDim;
        TensorShape.ExpectRank(query, nameof(query), bthd ? "[B, Tq, H, D]" : "[B, H, Tq, D]", 4);
        TensorShape.ExpectRank(key, nameof(key), bthd ? "[B, Tk, KvH, D]" : "[B, KvH, Tk, D]", 4);
        int batches = query.Dim(0);
        int queryLength = query.Dim(bthd ? 1 : 2);
        int keyLength = key.Dim(bthd ? 1 : 2);
        if (bthd)
        {
            TensorShape.Expect(query, nameof(query), $"[B, Tq, H={heads}, D={headDim}]", batches, queryLength, heads, headDim);
            TensorShape.Expect(key, nameof(key), $"[B, Tk, KvH={kvHeads}, D={headDim}]", batches, keyLength, kvHeads, headDim);
        }
        else
        {
            TensorShape.Expect(query, nameof(query), $"[B, H={heads}, Tq, D={headDim}]", batches, heads, queryLength, headDim);
            TensorShape.Expect(key, nameof(key), $"[B, KvH={kvHeads}, Tk, D={headDim}]", batches, kvHeads, keyLength, headDim);
        }
        TensorShape.Expect(logSumExp, nameof(logSumExp), $"[B, H={heads}, Tq]", batches, heads, queryLength);
        if ((uint)batch >= (uint)batches)
            throw new ArgumentOutOfRangeException(nameof(batch), batch,
                $"Batch {batch} is outside 0…{batches - 1}: query has shape {TensorShape.Format(query.Shape)}.");
        if ((uint)head >= (uint)heads)
            throw new ArgumentOutOfRangeException(nameof(head), head,
                $"Head {head} is outside 0…{heads - 1}: kernel {kernel} has {heads} query heads (query shape {TensorShape.Format(query.Shape)}).");
        if (realKeys is < 0 || realKeys > keyLength)
            throw new ArgumentOutOfRangeException(nameof(realKeys), realKeys,
                $"realKeys = {realKeys} is outside 0…{keyLength} (Tk of key {TensorShape.Format(key.Shape)}).");
        int keys = realKeys ?? keyLength; // key padding: the mask stays aligned on the full Tk, keys past this are hidden

        int kvHead = head / (heads / kvHeads);
        // The rows this head reads, on the host: q_i at qBase + i·qStride, k_j at kBase + j·kStride.
        float[] q, k;
        int qBase, kBase, qStride, kStride;
        if (bthd)
        {
            q = Read(query, (long)batch * queryLength * heads * headDim, queryLength * heads * headDim);
            k = Read(key, (long)batch * keyLength * kvHeads * headDim, keyLength * kvHeads * headDim);
            (qBase, qStride, kBase, kStride) = (head * headDim, heads * headDim, kvHead * headDim, kvHeads * headDim);
        }
        else
        {
            q = Read(query, ((long)batch * heads + head) * queryLength * headDim, queryLength * headDim);
            k = Read(key, ((long)batch * kvHeads + kvHead) * keyLength * headDim, keyLength * headDim);
            (qBase, qStride, kBase, kStride) = (0, headDim, 0, headDim);
        }
        float[] lse = Read(logSumExp, ((long)batch * heads + head) * queryLength, queryLength);

        // The modifiers' tensors on the host, pinned, read through the CPU accessors (checked reads, as in the kernels).
        var host = new object[modTensors.Count];
        var pins = new System.Runtime.InteropServices.GCHandle[modTensors.Count];
        try
        {
            for (int slot = 0; slot < host.Length; slot++)
            {
                host[slot] = modTensors[slot] switch { Tensor<int> i => i.ToArray(), Tensor<float> f => f.ToArray(), var other => other! };
                pins[slot] = System.Runtime.InteropServices.GCHandle.Alloc(host[slot], System.Runtime.InteropServices.GCHandleType.Pinned);
            }
            var tensors = Cpu.CpuModTensors.FromHost(modTensors, pins);
            var weights = new float[queryLength, keyLength];
            try
            {
                Rows<TKernel>(weights, q, k, lse, qBase, qStride, kBase, kStride, keys, batch, head, tensors);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0 && e.InnerExceptions[0] is Cpu.ModTensorReadException read)
            {
                throw Cpu.CpuModTensors.Named<TKernel>(modTensors, read, pins);
            }
            return weights;
        }
        finally
        {
            foreach (var pin in pins)
            {
                if (pin.IsAllocated)
                    pin.Free();
            }
        }
    }

    /// <summary>Fills <paramref name="weights"/> row by row (in parallel): exp(s − lse) for the visible pairs, 0 elsewhere.</summary>
    private static void Rows<TKernel>(float[,] weights, float[] q, float[] k, float[] lse, int qBase, int qStride, int kBase, int kStride, int keys,
        int batch, int head, ModTensors<Cpu.CpuModTensor<int>, Cpu.CpuModTensor<float>> tensors)
        where TKernel : struct, IAttentionKernel
    {
        int queryLength = weights.GetLength(0), keyLength = weights.GetLength(1), headDim = TKernel.HeadDim;
        double scale = TKernel.Scale;
        Parallel.For(0, queryLength, i =>
        {
            double rowLse = lse[i];
            if (double.IsNegativeInfinity(rowLse))
                return; // the row sees no key: all zeros
            var qi = q.AsSpan(qBase + i * qStride, headDim);
            for (int j = 0; j < keys; j++)
            {
                if (!AttentionGeometry.IsVisible(i, j, queryLength, keyLength, TKernel.Mask, TKernel.Window))
                    continue;
                if (TKernel.HasMaskMod && !TKernel.MaskMod(batch, head, i, j, tensors))
                    continue;
                var kj = k.AsSpan(kBase + j * kStride, headDim);
                double dot = 0;
                for (int d = 0; d < headDim; d++)
                    dot += (double)qi[d] * kj[d];
                double score = scale * dot;
                if (TKernel.HasScoreMod)
                {
                    float modified = TKernel.ScoreMod((float)score, batch, head, i, j, tensors);
                    if (float.IsNegativeInfinity(modified))
                        continue;
                    score = modified;
                }
                weights[i, j] = (float)Math.Exp(score - rowLse);
            }
        });
    }

    /// <summary>Copies <paramref name="count"/> elements of <paramref name="tensor"/> from element <paramref name="start"/> to the host, widened to fp32.</summary>
    private static float[] Read<T>(Tensor<T> tensor, long start, int count) where T : unmanaged
    {
        var host = new float[count];
        long offset = start * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (typeof(T) == typeof(float))
        {
            tensor.Device.CopyToHost(tensor.Buffer, host.AsSpan(), offset);
            return host;
        }
        var raw = new T[count];
        tensor.Device.CopyToHost(tensor.Buffer, raw.AsSpan(), offset);
        if (typeof(T) == typeof(Half))
            StorageConvert.ToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<T, Half>(raw), host);
        else if (typeof(T) == typeof(BFloat16))
            StorageConvert.ToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<T, BFloat16>(raw), host);
        else
            throw new NotSupportedException($"Storage type {typeof(T).Name} is not float, Half or BFloat16.");
        return host;
    }
}

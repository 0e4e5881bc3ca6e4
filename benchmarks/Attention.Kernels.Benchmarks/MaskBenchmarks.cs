using System.Diagnostics;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>The kernels of the issue-14 goals (docs/kernels/masks.md, mods.md): each row pairs one with its plain counterpart.</summary>
public static partial class MaskBenchmarkKernels
{
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Plain(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft)]
    public static partial void Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.None, MaskMod = nameof(CausalMod))]
    public static partial void CausalByMaskMod(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    private static bool CausalMod(int batch, int head, int query, int key) => key <= query;

    /// <summary>The document-mask goal's packing: 8 equal documents of 512 positions in a T = 4096 row.</summary>
    public const int DocumentLength = 512;

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, MaskMod = nameof(SameDocument))]
    public static partial void DocumentMasked(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    private static bool SameDocument(int batch, int head, int query, int key) => query / DocumentLength == key / DocumentLength;

    /// <summary>The built-in document mask: the ids come as a [B, T] tensor (docs/kernels/masks.md, "Document masks").</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void DocumentIds(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> documentIds);

    /// <summary>The same documents through a <c>MaskMod</c> that reads the ids (docs/kernels/mods.md, "Tensors read by modifiers").</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, MaskMod = nameof(SameDocumentId))]
    public static partial void DocumentIdsByMaskMod(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> ids);

    private static bool SameDocumentId<TIds>(int batch, int head, int query, int key, TIds ids) where TIds : struct, IModTensor<int> =>
        ids[batch, query] == ids[batch, key];

    /// <summary>A learned bias per (head, key position) read by a <c>ScoreMod</c> for every pair: the most tensor reads per launch.</summary>
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, ScoreMod = nameof(KeyBias))]
    public static partial void KeyBiased(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> bias);

    private static float KeyBias<TBias>(float score, int batch, int head, int query, int key, TBias bias) where TBias : struct, IModTensor<float> =>
        score + bias[head, key];

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft, Alibi = true)]
    public static partial void AlibiCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, SoftCap = 50)]
    public static partial void SoftCapped(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Varlen(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> queryOffsets, Tensor<int> keyOffsets);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void Padded(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths);
}

/// <summary>
/// The issue-14 goal rows, measured side by side in one process: each pair is launched alternately (interleaved, after
/// warm-up launches), and the medians give the ratio. Run it under the exclusive CPU lock:
/// <c>flock -x /work/cpu.lock dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- masks</c>.
/// </summary>
public static class MaskBenchmarks
{
    private const int H = 8, D = 64;

    /// <summary>Rows whose name does not contain this text are skipped (null: every row).</summary>
    private static string? s_rows;

    public static int Run(int repetitions, string? rows = null)
    {
        s_rows = rows;
        Console.WriteLine($"masks: {Environment.ProcessorCount} logical CPUs, {CpuParallel.WorkerCount} workers, {(Simd.UseVector512 ? "AVX-512" : "AVX2")}, " +
                          $"load average {Compare.LoadAverage()}, medians of {repetitions} interleaved launches after a warm-up of up to {WarmUpLaunches} each, fp32, H8 D64, BTHD");
        var device = Device.Cpu;
        var random = new Random(14);
        Tensor<float> Random(params int[] shape)
        {
            var t = Tensor.Create<float>(device, shape);
            t.CopyFrom(Enumerable.Range(0, checked((int)t.Length)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
            return t;
        }

        // B1 T2048: the modifier rows.
        const int T = 2048;
        using var q = Random(1, T, H, D);
        using var k = Random(1, T, H, D);
        using var v = Random(1, T, H, D);
        using var o = Tensor.Create<float>(device, 1, T, H, D);
        double causalPairs = H * (double)T * (T + 1) / 2, densePairs = H * (double)T * T;
        Row("ALiBi (built-in) vs plain, top-left causal, B1 T2048", repetitions,
            () => MaskBenchmarkKernels.AlibiCausal(q, k, v, o), causalPairs, () => MaskBenchmarkKernels.Causal(q, k, v, o), causalPairs, "≤ 1.20× time");
        Row("SoftCap = 50 (built-in) vs plain, no mask, B1 T2048", repetitions,
            () => MaskBenchmarkKernels.SoftCapped(q, k, v, o), densePairs, () => MaskBenchmarkKernels.Plain(q, k, v, o), densePairs, "≤ 1.20× time");
        Row("MaskMod = causal vs built-in CausalTopLeft, B1 T2048", repetitions,
            () => MaskBenchmarkKernels.CausalByMaskMod(q, k, v, o), causalPairs, () => MaskBenchmarkKernels.Causal(q, k, v, o), causalPairs, "≤ 1.15× time");
        // A ScoreMod reading a [H, T] bias for every pair (its cost includes the bounds check of each read).
        using var keyBias = Random(H, T);
        Row("ScoreMod reads a tensor (score + bias[head, key]) vs plain, no mask, B1 T2048", repetitions,
            () => MaskBenchmarkKernels.KeyBiased(q, k, v, o, keyBias), densePairs, () => MaskBenchmarkKernels.Plain(q, k, v, o), densePairs, "no goal: the cost of tensor reads");

        // Document mask: 8 equal documents at B1 T4096 against the plain kernel, rate over the visible pairs (block skipping).
        {
            const int DocT = 8 * MaskBenchmarkKernels.DocumentLength;
            using var dq = Random(1, DocT, H, D);
            using var dk = Random(1, DocT, H, D);
            using var dv = Random(1, DocT, H, D);
            using var dout = Tensor.Create<float>(device, 1, DocT, H, D);
            double documentPairs = H * 8.0 * MaskBenchmarkKernels.DocumentLength * MaskBenchmarkKernels.DocumentLength;
            Row("document mask, 8 documents of 512, B1 T4096 vs plain B1 T4096 (visible-pairs rate)", repetitions,
                () => MaskBenchmarkKernels.DocumentMasked(dq, dk, dv, dout), documentPairs,
                () => MaskBenchmarkKernels.Plain(dq, dk, dv, dout), H * (double)DocT * DocT, "≥ 0.80× rate");
            // The same 8 documents through the built-in mask: ids [1, 4096], block classes from id ranges (no mask calls).
            using var ids = Tensor.FromArray<int>(device, [.. Enumerable.Range(0, DocT).Select(t => t / MaskBenchmarkKernels.DocumentLength)], 1, DocT);
            Row("document mask (built-in documentIds), 8 documents of 512, B1 T4096 vs plain B1 T4096 (visible-pairs rate)", repetitions,
                () => MaskBenchmarkKernels.DocumentIds(dq, dk, dv, dout, ids), documentPairs,
                () => MaskBenchmarkKernels.Plain(dq, dk, dv, dout), H * (double)DocT * DocT, "≥ 0.80× rate");
            // The same ids read by a MaskMod (two tensor reads per mask evaluation), against the built-in mask.
            Row("document mask (MaskMod reads a tensor: ids[batch, query] == ids[batch, key]) vs built-in documentIds, B1 T4096", repetitions,
                () => MaskBenchmarkKernels.DocumentIdsByMaskMod(dq, dk, dv, dout, ids), documentPairs,
                () => MaskBenchmarkKernels.DocumentIds(dq, dk, dv, dout, ids), documentPairs, "no goal: the cost of tensor reads");
        }

        // Varlen: 8 sequences with lengths spread evenly over 1..2048, against an equal-length batch B8 T1024.
        int[] lengths = [.. Enumerable.Range(0, 8).Select(i => 1 + (int)Math.Round(i * 2047.0 / 7))];
        int[] offsets = new int[9];
        for (int b = 0; b < 8; b++)
            offsets[b + 1] = offsets[b] + lengths[b];
        int total = offsets[8];
        using var pq = Random(total, H, D);
        using var pk = Random(total, H, D);
        using var pv = Random(total, H, D);
        using var po = Tensor.Create<float>(device, total, H, D);
        using var offsetsTensor = Tensor.FromArray<int>(device, offsets, 9);
        const int EqualT = 1024;
        using var eq = Random(8, EqualT, H, D);
        using var ek = Random(8, EqualT, H, D);
        using var ev = Random(8, EqualT, H, D);
        using var eo = Tensor.Create<float>(device, 8, EqualT, H, D);
        double varlenPairs = H * lengths.Sum(l => (double)l * l), equalPairs = H * 8.0 * EqualT * EqualT;
        Row($"varlen 8 sequences [{string.Join(",", lengths)}] vs equal-length B8 T1024, no mask (visible-pairs rate)", repetitions,
            () => MaskBenchmarkKernels.Varlen(pq, pk, pv, po, offsetsTensor, offsetsTensor), varlenPairs,
            () => MaskBenchmarkKernels.Plain(eq, ek, ev, eo), equalPairs, "≥ 0.90× rate");

        // Key padding: B4 T2048 with 2048, 1024, 512, 256 real keys, against the same batch unpadded (rate over the real pairs).
        using var bq = Random(4, T, H, D);
        using var bk = Random(4, T, H, D);
        using var bv = Random(4, T, H, D);
        using var bo = Tensor.Create<float>(device, 4, T, H, D);
        int[] real = [2048, 1024, 512, 256];
        using var keyLengths = Tensor.FromArray<int>(device, real, 4);
        Row("key padding B4 T2048, keys [2048,1024,512,256] vs unpadded B4 T2048 (visible-pairs rate)", repetitions,
            () => MaskBenchmarkKernels.Padded(bq, bk, bv, bo, keyLengths), H * (double)T * real.Sum(),
            () => MaskBenchmarkKernels.Plain(bq, bk, bv, bo), H * 4.0 * T * T, "rate ≈ 1 (padding costs nothing)");
        return 0;
    }

    /// <summary>Times <paramref name="subject"/> and <paramref name="baseline"/> alternately; prints both medians, the time ratio and the visible-pairs rate ratio.</summary>
    private static void Row(string name, int repetitions, Action subject, double subjectPairs, Action baseline, double baselinePairs, string goal)
    {
        if (s_rows is not null && !name.Contains(s_rows, StringComparison.OrdinalIgnoreCase))
            return;
        WarmUp(subject, baseline);
        var a = new List<double>();
        var b = new List<double>();
        for (int r = 0; r < repetitions; r++)
        {
            a.Add(Time(subject));
            b.Add(Time(baseline));
        }
        double ma = Compare.Median(a), mb = Compare.Median(b);
        double rate = subjectPairs / ma / (baselinePairs / mb);
        Console.WriteLine($"{name}: {ma:F1} ms vs {mb:F1} ms; time {ma / mb:F2}×; visible-pairs rate {rate:F2}×; " +
                          $"{4.0 * D * subjectPairs / ma / 1e6:F1} vs {4.0 * D * baselinePairs / mb / 1e6:F1} GFLOP/s (goal {goal})");
    }

    /// <summary>
    /// Launches the pair alternately until each has run <see cref="WarmUpLaunches"/> times (or <see cref="WarmUpSeconds"/>
    /// have passed), so both are measured on their tier-1 code. Why: with one warm-up launch each, a row's kernels were
    /// timed partly before tiered compilation had promoted their per-launch code, and the row's ratio depended on which
    /// rows ran before it in the process (a baseline shared with an earlier row was already warm).
    /// </summary>
    private static void WarmUp(Action subject, Action baseline)
    {
        long start = Stopwatch.GetTimestamp();
        for (int launch = 0; launch < WarmUpLaunches && (launch < 2 || Stopwatch.GetElapsedTime(start).TotalSeconds < WarmUpSeconds); launch++)
        {
            subject();
            baseline();
        }
    }

    // The runtime promotes a method to tier 1 after 30 calls; a few more let the background compile land.
    private const int WarmUpLaunches = 40;
    private const double WarmUpSeconds = 5;

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

}

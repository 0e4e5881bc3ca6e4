using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// <c>limits</c> mode: what bounds the fused CPU kernel, measured piece by piece on this machine. It times the FMA
/// peak (registers only, one and all threads), each phase of the flash-attention tile on hot data (Q·Kᵀ scores,
/// the online-softmax step, P·V), one tile streaming a whole key sequence on one thread, and the full kernel on all
/// threads, then prints where the time of a tile goes. Run it on a quiet machine:
/// <c>dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- limits</c>.
/// </summary>
public static unsafe class Limits
{
    private const int HeadDim = 64;
    private const int Heads = 8;
    private const int Keys = 1024;
    private const long KeyStride = Heads * HeadDim; // BTHD: consecutive keys of one head are H·D floats apart
    private const long ContiguousStride = HeadDim; // the kernel's per-core copy of one head's K/V

    public static int Run()
    {
        Write(Console.Out);
        return 0;
    }

    /// <summary>
    /// What the probe measured: FMA peaks (GFLOP/s), the FLOPs of one block's GEMM, seconds per block of each phase on
    /// hot data, of the phases in turn, and of a tile streaming contiguous K/V; the full kernel's GFLOP/s.
    /// </summary>
    public sealed record Result(double FmaPeakOneThread, double FmaPeakAllThreads, double BlockFlops, double Scores, double Softmax, double Values,
        double Interleaved, double Streamed, double FullKernelGflops);

    /// <summary>Measures and writes the report (also embedded in docs/performance.md by the <c>compare</c> runner).</summary>
    /// <returns>The measurements; its all-thread FMA peak is the <c>compare</c> runner's plausibility ceiling.</returns>
    public static Result Write(TextWriter output)
    {
        if (!Simd.UseVector512)
            output.WriteLine("note: no AVX-512 here; the phases run on the 256-bit path");
        output.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs, {CpuParallel.WorkerCount} workers, load average {Compare.LoadAverage()}");
        output.WriteLine($"tile: {FlashAttentionCpu.QueryTileRows} query rows x {FlashAttentionCpu.KeyBlock} keys per block, D = {HeadDim}, key stride {KeyStride} floats");
        output.WriteLine();

        double peak1 = FmaPeak(threads: 1);
        double peakAll = FmaPeak(threads: CpuParallel.WorkerCount);
        output.WriteLine($"FMA peak, registers only:        1 thread {peak1,7:F1} GFLOP/s   {CpuParallel.WorkerCount} threads {peakAll,7:F1} GFLOP/s");

        var phases = Simd.UseVector512 ? Phases<Vector512<float>>(KeyStride, output) : Phases<Vector256<float>>(KeyStride, output);
        var contiguous = Simd.UseVector512 ? Phases<Vector512<float>>(ContiguousStride, output) : Phases<Vector256<float>>(ContiguousStride, output);
        double blockFlops = 2.0 * FlashAttentionCpu.QueryTileRows * FlashAttentionCpu.KeyBlock * HeadDim; // one GEMM of a block
        output.WriteLine($"Q·Kᵀ scores, one block, hot:     {phases.Scores * 1e6,8:F2} us  {blockFlops / phases.Scores / 1e9,7:F1} GFLOP/s ({Percent(blockFlops / phases.Scores / 1e9, peak1)} of 1-thread peak)");
        output.WriteLine($"P·V accumulate, one block, hot:  {phases.Values * 1e6,8:F2} us  {blockFlops / phases.Values / 1e9,7:F1} GFLOP/s ({Percent(blockFlops / phases.Values / 1e9, peak1)} of 1-thread peak)");
        output.WriteLine($"online softmax, one block, hot:  {phases.Softmax * 1e6,8:F2} us  (exp2, max, sum, rescale of O; counts no FLOPs)");
        double sum = phases.Scores + phases.Values + phases.Softmax;
        output.WriteLine($"sum of the phases per block:     {sum * 1e6,8:F2} us  {2 * blockFlops / sum / 1e9,7:F1} GFLOP/s  (scores {Percent(phases.Scores, sum)}, softmax {Percent(phases.Softmax, sum)}, P·V {Percent(phases.Values, sum)})");
        output.WriteLine($"the three phases in turn, one hot block: {phases.Interleaved * 1e6,8:F2} us  {2 * blockFlops / phases.Interleaved / 1e9,7:F1} GFLOP/s  ({Change(phases.Interleaved - sum, sum)}: the phases evict each other's tiles from L1)");
        double stream = phases.StreamPerBlock;
        output.WriteLine($"one tile over {Keys} keys, 1 thread: {stream * 1e6,8:F2} us/block {2 * blockFlops / stream / 1e9,7:F1} GFLOP/s  (new K/V every block: {Change(stream - phases.Interleaved, phases.Interleaved)} over the hot block)");
        output.WriteLine($"the same, K/V rows contiguous:   {contiguous.StreamPerBlock * 1e6,8:F2} us/block {2 * blockFlops / contiguous.StreamPerBlock / 1e9,7:F1} GFLOP/s  " +
                          $"({Change(contiguous.StreamPerBlock - contiguous.Interleaved, contiguous.Interleaved)}: what the kernel's per-core K/V copy buys; the {KeyStride * 4}-byte stride maps a head's rows to few L2 sets)");

        double full = FullKernel();
        double fullFlops = 4.0 * Heads * Keys * (double)Keys * HeadDim;
        output.WriteLine($"full kernel B1 H8 T{Keys} D{HeadDim}, {CpuParallel.WorkerCount} threads: {full * 1e3,7:F2} ms  {fullFlops / full / 1e9,7:F1} GFLOP/s  ({Percent(fullFlops / full / 1e9, peakAll)} of the {CpuParallel.WorkerCount}-thread FMA peak; " +
                          $"{fullFlops / full / 1e9 / (2 * blockFlops / contiguous.StreamPerBlock / 1e9):F2}x the 1-thread contiguous tile)");
        return new Result(peak1, peakAll, blockFlops, contiguous.Scores, contiguous.Softmax, contiguous.Values, contiguous.Interleaved,
            contiguous.StreamPerBlock, fullFlops / full / 1e9);
    }

    /// <summary>GFLOP/s of independent FMA chains on all workers, registers only: no kernel on this machine can exceed it.</summary>
    public static double AllThreadFmaPeak() => FmaPeak(CpuParallel.WorkerCount);

    private static string Percent(double part, double whole) => $"{100 * part / whole:F0} %";

    /// <summary>A signed relative change, "+12 %" or "−3 %" (a negative one means noise exceeded the effect).</summary>
    private static string Change(double delta, double whole) => delta >= 0 ? "+" + Percent(delta, whole) : "−" + Percent(-delta, whole);

    private readonly record struct PhaseTimes(double Scores, double Softmax, double Values, double Interleaved, double StreamPerBlock);

    /// <summary>Median seconds per call of each phase on one worker's tile, and of a whole streamed tile per block.</summary>
    private static PhaseTimes Phases<TVec>(long keyStride, TextWriter output) where TVec : struct
    {
        var random = new Random(1);
        int block = FlashAttentionCpu.KeyBlock;
        long floats = Keys * keyStride;
        float* k = Allocate(floats, random), v = Allocate(floats, random), q = Allocate(FlashAttentionCpu.QueryTileRows * keyStride, random);
        try
        {
            var tile = FlashAttentionCpu.BeginTile<TVec>(0, HeadDim);
            FlashAttentionCpu.PackQueries<TVec>(tile, q, keyStride, FlashAttentionCpu.QueryTileRows, HeadDim, 0.125f);
            double scores = Median(() => FlashAttentionCpu.Scores<TVec>(tile, k, keyStride, block, HeadDim));
            // Softmax on fixed scores: restore them each call so every call does the same work (the copy is timed apart and subtracted).
            var saved = new float[block * FlashAttentionCpu.QueryTileRows];
            new Span<float>(tile.Scores, saved.Length).CopyTo(saved);
            double restore = Median(() => saved.AsSpan().CopyTo(new Span<float>(tile.Scores, saved.Length)));
            double softmax = Median(() =>
            {
                saved.AsSpan().CopyTo(new Span<float>(tile.Scores, saved.Length));
                FlashAttentionCpu.Softmax<TVec>(tile, block, HeadDim);
            }) - restore;
            double values = Median(() => FlashAttentionCpu.AccumulateValues<TVec>(tile, v, keyStride, block, HeadDim));
            double pack = Median(() => FlashAttentionCpu.PackQueries<TVec>(tile, q, keyStride, FlashAttentionCpu.QueryTileRows, HeadDim, 0.125f));
            double store = Median(() => FlashAttentionCpu.Store<TVec>(tile, q, keyStride, FlashAttentionCpu.QueryTileRows, HeadDim, null, 0));
            if (keyStride == KeyStride)
                output.WriteLine($"per tile: pack queries {pack * 1e6:F2} us, store output {store * 1e6:F2} us (once per {Keys / block} blocks)");
            double interleaved = Median(() =>
            {
                FlashAttentionCpu.Scores<TVec>(tile, k, keyStride, block, HeadDim);
                FlashAttentionCpu.Softmax<TVec>(tile, block, HeadDim);
                FlashAttentionCpu.AccumulateValues<TVec>(tile, v, keyStride, block, HeadDim);
            });
            double stream = Median(() =>
            {
                var t = FlashAttentionCpu.BeginTile<TVec>(0, HeadDim);
                FlashAttentionCpu.PackQueries<TVec>(t, q, keyStride, FlashAttentionCpu.QueryTileRows, HeadDim, 0.125f);
                for (int first = 0; first < Keys; first += block)
                {
                    FlashAttentionCpu.Scores<TVec>(t, k + first * keyStride, keyStride, block, HeadDim);
                    FlashAttentionCpu.Softmax<TVec>(t, block, HeadDim);
                    FlashAttentionCpu.AccumulateValues<TVec>(t, v + first * keyStride, keyStride, block, HeadDim);
                }
            }) / (Keys / block);
            return new PhaseTimes(scores, softmax, values, interleaved, stream);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(k);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(v);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(q);
        }
    }

    private static double FullKernel()
    {
        using var work = new Workload(new AttentionShape(1, Heads, Keys, Keys, HeadDim, Causal: false), Device.Cpu);
        return Median(() => work.Run(Method.Fused), minimumSeconds: 1.0);
    }

    /// <summary>GFLOP/s of 24 independent FMA chains per thread (enough to cover FMA latency × throughput on any x64 core).</summary>
    /// <summary>
    /// FLOP/s of <paramref name="threads"/> threads running independent FMA chains, the best of three runs: a peak is a
    /// hardware property that interference (a vCPU descheduled by the host, another process) can only lower, and the
    /// runner refuses a kernel above it, so one disturbed run must not set it.
    /// </summary>
    private static double FmaPeak(int threads) => Enumerable.Range(0, 3).Max(_ => FmaPeakOnce(threads));

    private static double FmaPeakOnce(int threads)
    {
        const long iterations = 20_000_000;
        var seconds = new double[threads];
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            FmaLoop(1000); // JIT and warm the FMA units
            var watch = Stopwatch.StartNew();
            FmaLoop(iterations);
            seconds[i] = watch.Elapsed.TotalSeconds;
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        int lanes = Simd.UseVector512 ? Vector512<float>.Count : Vector256<float>.Count;
        return threads * iterations * 24.0 * lanes * 2 / seconds.Max() / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FmaLoop(long iterations) =>
        Simd.UseVector512 ? FmaChains<Vector512<float>>(iterations) : FmaChains<Vector256<float>>(iterations);

    private static float FmaChains<TVec>(long iterations) where TVec : struct
    {
        TVec m = Simd.Broadcast<TVec>(0.999f), c = Simd.Broadcast<TVec>(1e-3f);
        TVec a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        TVec b0 = m, b1 = m, b2 = m, b3 = m, b4 = m, b5 = m, b6 = m, b7 = m, b8 = m, b9 = m, b10 = m, b11 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Simd.Fma(a0, m, c); a1 = Simd.Fma(a1, m, c); a2 = Simd.Fma(a2, m, c); a3 = Simd.Fma(a3, m, c);
            a4 = Simd.Fma(a4, m, c); a5 = Simd.Fma(a5, m, c); a6 = Simd.Fma(a6, m, c); a7 = Simd.Fma(a7, m, c);
            a8 = Simd.Fma(a8, m, c); a9 = Simd.Fma(a9, m, c); a10 = Simd.Fma(a10, m, c); a11 = Simd.Fma(a11, m, c);
            b0 = Simd.Fma(b0, m, c); b1 = Simd.Fma(b1, m, c); b2 = Simd.Fma(b2, m, c); b3 = Simd.Fma(b3, m, c);
            b4 = Simd.Fma(b4, m, c); b5 = Simd.Fma(b5, m, c); b6 = Simd.Fma(b6, m, c); b7 = Simd.Fma(b7, m, c);
            b8 = Simd.Fma(b8, m, c); b9 = Simd.Fma(b9, m, c); b10 = Simd.Fma(b10, m, c); b11 = Simd.Fma(b11, m, c);
        }
        TVec s = Simd.Add(Simd.Add(Simd.Add(a0, a1), Simd.Add(a2, a3)), Simd.Add(Simd.Add(a4, a5), Simd.Add(a6, a7)));
        s = Simd.Add(s, Simd.Add(Simd.Add(Simd.Add(a8, a9), Simd.Add(a10, a11)), Simd.Add(Simd.Add(b0, b1), Simd.Add(b2, b3))));
        s = Simd.Add(s, Simd.Add(Simd.Add(Simd.Add(b4, b5), Simd.Add(b6, b7)), Simd.Add(Simd.Add(b8, b9), Simd.Add(b10, b11))));
        return Simd.Sum(s);
    }

    private static float* Allocate(long floats, Random random)
    {
        var p = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        for (long i = 0; i < floats; i++)
            p[i] = (float)(random.NextDouble() * 2 - 1);
        return p;
    }

    /// <summary>Median seconds per call: warm up, then batches of calls filling ~<paramref name="minimumSeconds"/>.</summary>
    private static double Median(Action call, double minimumSeconds = 0.3)
    {
        for (int i = 0; i < 20; i++) call();
        var once = Stopwatch.StartNew();
        call();
        int perBatch = Math.Max(1, (int)(2e-3 / Math.Max(once.Elapsed.TotalSeconds, 1e-9)));
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < minimumSeconds || samples.Count < 5)
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < perBatch; i++) call();
            samples.Add(watch.Elapsed.TotalSeconds / perBatch);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}

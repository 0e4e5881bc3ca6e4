using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json.Nodes;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>The <c>compare</c> command's options: ours only, skip the limits probe, a shape filter, the output folder, the peer's Python, rewrite docs/.</summary>
public sealed record CompareOptions(bool NoPeers, bool NoLimits, string? Only, string? OutDirectory, string Python, bool WriteDocs = false);

/// <summary>
/// <c>compare</c> mode: in one run, the fused kernel, the unfused baseline and PyTorch naive attention on the
/// standard shapes, interleaved shape by shape, plus the machine's ceilings (sgemm and copy/read bandwidth,
/// measured before and after). Prints the table and writes performance.md and performance.svg to artifacts/benchmarks/,
/// or to the tracked docs/ with <c>--write-docs</c>. The peer's OpenBLAS kernel is pinned (OPENBLAS_CORETYPE) and the
/// core it reports is checked; a run with a generic BLAS core or impossible rates is invalid: its goals are not
/// evaluated, docs/ is never overwritten, and the process exits with <see cref="InvalidRunExitCode"/>.
/// </summary>
public static class Compare
{
    public const string Command = "dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- compare";

    /// <summary>The exit code of a run whose numbers cannot be trusted (see <see cref="BenchmarkTrust"/>).</summary>
    public const int InvalidRunExitCode = 2;

    // ReadFloor, decode only: seconds to read the same K and V buffers once on all cores, in this process.
    private sealed record Row(AttentionShape Shape, KernelCost Cost, double Fused, double Unfused, double? Torch, double Agreement, double UnfusedExtraBytes,
        double? ReadFloor = null);

    private sealed record Ceilings(double SgemmGflops, double CopyGbps, double ReadGbps, string Detail);

    /// <param name="options">The <c>compare</c> command's options (parsed in Program.cs).</param>
    public static int Run(CompareOptions options)
    {
        string root = RepoRoot();
        string python = options.Python;
        string? only = options.Only;
        int threads = CpuParallel.WorkerCount;
        var shapes = AttentionShape.Standard.Where(s => only is null || s.ToString().Contains(only, StringComparison.Ordinal)).ToArray();

        string loadBefore = LoadAverage();
        var cpu = CpuFeatures();
        var pin = BenchmarkTrust.ChooseCoreType(Environment.GetEnvironmentVariable(BenchmarkTrust.CoreTypeVariable), cpu);
        // The user's pin wins, but a weaker one lowers the sgemm ceiling below what the CPU does (Haswell on an AVX-512
        // CPU measured 207 vs 377 GFLOP/s here): say so, since the plausibility check may then refuse the run.
        string? cpuDefault = BenchmarkTrust.ChooseCoreType(null, cpu).Value;
        if (!options.NoPeers && pin.Value is not null && cpuDefault is not null && !string.Equals(pin.Value, cpuDefault, StringComparison.OrdinalIgnoreCase))
            Console.Error.WriteLine($"note: your {BenchmarkTrust.CoreTypeVariable}={pin.Value} overrides this CPU's default {cpuDefault}; unset it to measure the peer on the CPU's own kernel.");
        using var peer = options.NoPeers ? null : TorchPeer.Start(root, threads, python, pin.Value);
        var hello = peer?.Hello();
        var blas = hello is null ? null : new BlasKernel(pin, hello["blas_core"]?.GetValue<string>(), hello["coretype_env"]?.GetValue<string>(),
            string.Join(", ", (hello["blas_libraries"]?.AsArray() ?? []).Select(l => l?.GetValue<string>())));
        if (hello is not null)
            Console.WriteLine($"peer: torch {hello["torch"]}, {hello["blas"]}, {hello["threads"]} threads");
        if (blas is not null)
            Console.WriteLine($"BLAS kernel: pinned {blas.PinText}; the peer reports core {blas.ReportedCore ?? "(none)"} ({blas.Libraries})");
        var before = peer is null ? null : ReadCeilings(peer.Ceilings());
        if (before is not null)
            Console.WriteLine($"ceilings (before): {before.Detail}");

        var rows = new List<Row>();
        Console.WriteLine($"{"shape",-34} {"fused ms",9} {"GFLOP/s",8} {"unfused ms",10} {"torch ms",9} {"vs torch",8} {"vs unfused",10}");
        foreach (var shape in shapes)
        {
            using var work = new Workload(shape, Device.Cpu);
            // Decode is bound by reading K and V: time a plain read of those very buffers before and after the kernel.
            double? readFloor = shape.Kind == "decode" ? Time(() => work.ReadKeysValues()) : null;
            double fused = Time(() => work.Run(Method.Fused));
            double fusedMin = MinOfLastTime;
            if (readFloor is not null)
                readFloor = Math.Min(readFloor.Value, Time(() => work.ReadKeysValues()));
            float[] expected = work.Output();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            double unfused = Time(() => work.Run(Method.Unfused));
            long calls = Math.Max(1, CallsOfLastTime);
            double unfusedBytes = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)calls;
            double agreement = RelativeDifference(work.Output(), expected);
            double? torch = peer?.Attention(shape);
            var row = new Row(shape, work.Cost, fused, unfused, torch, agreement, unfusedBytes, readFloor);
            rows.Add(row);
            Console.WriteLine($"{shape,-34} {fused * 1e3,9:F2} {work.Cost.GflopsPerSecond(fused),8:F1} {unfused * 1e3,10:F2} " +
                              $"{(torch is { } t ? (t * 1e3).ToString("F2", CultureInfo.InvariantCulture) : "-"),9} " +
                              $"{(torch is { } t2 ? (t2 / fused).ToString("F2", CultureInfo.InvariantCulture) + "x" : "-"),8} {unfused / fused,9:F2}x  (fused min {fusedMin * 1e3:F2} ms)");
        }

        var after = peer is null ? null : ReadCeilings(peer.Ceilings());
        if (after is not null)
            Console.WriteLine($"ceilings (after): {after.Detail}");
        // The best of the two measurements: what the machine demonstrably does, so our ratios are not flattered by a slow one.
        var ceiling = before is null || after is null ? null : new Ceilings(
            Math.Max(before.SgemmGflops, after.SgemmGflops), Math.Max(before.CopyGbps, after.CopyGbps), Math.Max(before.ReadGbps, after.ReadGbps),
            $"before: {before.Detail}; after: {after.Detail}");

        // Where the kernel's time goes (phases against the FMA peak), measured in the same run for the page.
        // The FMA peak (registers only, all workers) bounds every kernel; without the probe it is measured alone (~0.2 s).
        string? limits = null;
        double fmaPeak;
        if (!options.NoLimits)
        {
            var probe = new StringWriter(CultureInfo.InvariantCulture);
            fmaPeak = Limits.Write(probe);
            limits = probe.ToString();
        }
        else
        {
            fmaPeak = Limits.AllThreadFmaPeak();
        }

        var problems = new List<string>();
        if (blas is not null && BenchmarkTrust.CoreProblem(blas.Pin.Value, blas.ReportedCore) is { } coreProblem)
            problems.Add(coreProblem);
        problems.AddRange(BenchmarkTrust.ImpossibleRates(
            rows.SelectMany(r => new[]
            {
                new BenchmarkTrust.Rate($"fused at {r.Shape}", r.Cost.GflopsPerSecond(r.Fused)),
                new BenchmarkTrust.Rate($"unfused at {r.Shape}", r.Cost.GflopsPerSecond(r.Unfused)),
            }),
            rows.Where(r => r.Torch is not null).Select(r => new BenchmarkTrust.Rate($"torch at {r.Shape}", r.Cost.GflopsPerSecond(r.Torch!.Value))),
            ceiling?.SgemmGflops, fmaPeak));

        var report = new Report(rows, ceiling, hello, loadBefore, LoadAverage(), threads, limits, blas, fmaPeak, problems);
        Console.WriteLine();
        string markdown = report.Markdown();
        Console.WriteLine(markdown);
        var (outDir, refused) = BenchmarkTrust.OutputDirectory(root, options.OutDirectory, options.WriteDocs, valid: problems.Count == 0);
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "performance.md"), markdown);
        File.WriteAllText(Path.Combine(outDir, "performance.svg"), report.Svg());
        if (refused is not null)
            Console.Error.WriteLine(refused);
        Console.WriteLine($"wrote {Path.Combine(outDir, "performance.md")} and performance.svg" +
                          (options.WriteDocs || options.OutDirectory is not null ? "" : " (docs/ is rewritten only with --write-docs)"));
        if (blas is not null)
            Console.WriteLine($"BLAS kernel: pinned {blas.PinText}; reported core {blas.ReportedCore ?? "(none)"}");
        if (problems.Count == 0)
            return 0;
        Console.Error.WriteLine($"INVALID RUN: goals not evaluated, exit code {InvalidRunExitCode}:");
        foreach (string problem in problems)
            Console.Error.WriteLine($"  - {problem}");
        return InvalidRunExitCode;
    }

    /// <summary>The <c>torch-check</c> command: 0 when LibTorch loads and its SDPA agrees with the fused kernel, 1 otherwise.</summary>
    public static int TorchCheck()
    {
        var torch = LibTorchPeer.TryStart(CpuParallel.WorkerCount, out string? whyNot);
        if (torch is null)
        {
            Console.Error.WriteLine($"LibTorch did not load: {whyNot}");
            return 1;
        }
        Console.WriteLine(torch.Description);
        var shape = new AttentionShape(1, 8, 129, 129, 64, true);
        using var work = new Workload(shape, Device.Cpu);
        work.Run(Method.Fused);
        using var call = torch.Prepare(shape, work.QueryData, work.KeyData, work.ValueData, naive: false);
        call.Run();
        double difference = RelativeDifference(call.Output(), work.Output());
        Console.WriteLine(FormattableString.Invariant($"SDPA at {shape}: relative difference to the fused kernel {difference:E1}; sgemm 1024³ {LibTorchPeer.SgemmGflops(1024):F1} GFLOP/s"));
        return difference < 1e-5 ? 0 : 1;
    }

    /// <summary>The peer's BLAS kernel: the pin it was started with, the core its OpenBLAS reports, the libraries mapped.</summary>
    private sealed record BlasKernel(BenchmarkTrust.CorePin Pin, string? ReportedCore, string? PeerSawVariable, string Libraries)
    {
        public string PinText => Pin.Value is null ? Pin.Source : $"{BenchmarkTrust.CoreTypeVariable}={Pin.Value} ({Pin.Source}; the peer saw {PeerSawVariable ?? "none"})";
    }

    /// <summary>The CPU's features as OpenBLAS sees them (/proc/cpuinfo), else as .NET reports them.</summary>
    private static BenchmarkTrust.CpuFeatures CpuFeatures()
    {
        if (File.Exists("/proc/cpuinfo"))
            return BenchmarkTrust.ParseCpuInfo(File.ReadAllText("/proc/cpuinfo"));
        return new BenchmarkTrust.CpuFeatures(
            System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported && System.Runtime.Intrinsics.X86.Avx512DQ.IsSupported,
            System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported);
    }

    private static long CallsOfLastTime;
    private static double MinOfLastTime;

    /// <summary>
    /// Median wall time per call: warm up (≥ 1 call and ≥ 1 s), then 5..100 calls filling ~1 s (3 if a call takes over
    /// 2 s). The peer uses the same rule. Why 1 s: .NET's tiered JIT replaces a method's first code after ~30 calls and
    /// a quiet 100 ms; with 0.2 s the first shape of a run was timed partly on unoptimized code (83–106 instead of
    /// ~150 GFLOP/s at B1 H8 T1024, confirmed with DOTNET_TieredCompilation=0).
    /// </summary>
    private static double Time(Action call)
    {
        var warm = Stopwatch.StartNew();
        double last;
        int warmCalls = 0;
        do
        {
            warmCalls++;
            var w = Stopwatch.StartNew();
            call();
            last = w.Elapsed.TotalSeconds;
        }
        while (last <= 2.0 && warm.Elapsed.TotalSeconds < 1.0);
        int reps = last > 2.0 ? 3 : (int)Math.Clamp(Math.Ceiling(1.0 / last), 5, 100);
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            var w = Stopwatch.StartNew();
            call();
            times[i] = w.Elapsed.TotalSeconds;
        }
        CallsOfLastTime = warmCalls + reps; // every call allocates: the per-call average needs them all
        Array.Sort(times);
        MinOfLastTime = times[0];
        return times[reps / 2];
    }

    private static double RelativeDifference(float[] actual, float[] expected)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff += (actual[i] - (double)expected[i]) * (actual[i] - (double)expected[i]);
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, double.Epsilon));
    }

    private static Ceilings ReadCeilings(JsonObject json)
    {
        double sgemm = json["sgemm_gflops"]!.GetValue<double>(), copy = json["copy_gbs"]!.GetValue<double>(), read = json["read_gbs"]!.GetValue<double>();
        return new Ceilings(sgemm, copy, read, FormattableString.Invariant($"sgemm {sgemm:F1} GFLOP/s, copy {copy:F1} GB/s, read {read:F1} GB/s"));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Attention.Kernels.sln")))
                return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The markdown page and the SVG chart of one compare run.</summary>
    private sealed class Report(List<Row> rows, Ceilings? ceiling, JsonObject? peer, string loadBefore, string loadAfter, int threads, string? limits,
        BlasKernel? blas, double fmaPeak, List<string> problems)
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        public string Markdown()
        {
            var md = new StringBuilder();
            void Line(FormattableString s) => md.AppendLine(s.ToString(Inv));
            md.AppendLine("# Performance: fused CPU attention side by side with PyTorch");
            md.AppendLine();
            md.AppendLine("Generated by the side-by-side runner; this command refreshes this page and `performance.svg` (without `--write-docs` it writes them to `artifacts/benchmarks/`; an invalid run never replaces this page):");
            md.AppendLine();
            md.AppendLine("```");
            md.AppendLine(Command + " --write-docs");
            md.AppendLine("```");
            md.AppendLine();
            if (problems.Count > 0)
            {
                md.AppendLine("**INVALID RUN: the goals below are not evaluated.** The numbers are impossible or the peer is not a fair one:");
                md.AppendLine();
                foreach (string problem in problems)
                    md.AppendLine($"- {problem}");
                md.AppendLine();
            }
            md.AppendLine("| item | value |");
            md.AppendLine("| --- | --- |");
            Line($"| date | {DateTime.Now:yyyy-MM-dd HH:mm zzz} |");
            Line($"| machine | {CpuModel()}, {Environment.ProcessorCount} CPUs, {(Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "no wide SIMD")} path |");
            Line($"| load average (1/5/15 min) | before {loadBefore}, after {loadAfter} (a shared machine: treat differences under ~20 % as noise) |");
            Line($"| ours | {RuntimeInformation.FrameworkDescription}, fp32, {threads} worker threads |");
            if (peer is not null)
                Line($"| PyTorch | torch {peer["torch"]} (Python {peer["python"]}), {peer["threads"]} threads, no_grad; BLAS: {peer["blas"]} |");
            if (blas is not null)
                Line($"| BLAS kernel (peer) | pinned {blas.PinText}; reported core: {blas.ReportedCore ?? "none (not OpenBLAS)"}{(BenchmarkTrust.CoreProblem(blas.Pin.Value, blas.ReportedCore) is { } p ? " — UNTRUSTWORTHY: " + p : " (as pinned)")}; libraries mapped: {blas.Libraries} |");
            Line($"| FMA peak (registers only, {threads} threads) | {fmaPeak:F1} GFLOP/s: no kernel can exceed it |");
            Line($"| run | {(problems.Count == 0 ? "valid: every rate is positive, below the sgemm ceiling and the FMA peak; the peer's sgemm is above " + BenchmarkTrust.PeerSgemmFloorOfPeak.ToString("P0", Inv) + " of the FMA peak" : "INVALID (" + problems.Count + " problem(s), listed above)")} |");
            if (ceiling is not null)
                Line($"| ceilings (best of before/after) | sgemm 4096³ {ceiling.SgemmGflops:F1} GFLOP/s (torch.matmul); copy {ceiling.CopyGbps:F1} GB/s (read+written, 512 MiB, {threads} threads); read stream {ceiling.ReadGbps:F1} GB/s (sgemv over 512 MiB) |");
            md.AppendLine();
            md.AppendLine("![GFLOP/s per shape](performance.svg)");
            md.AppendLine();
            md.AppendLine("| shape | fused ms | fused GFLOP/s | fused GB/s | unfused ms | torch naive ms | torch GFLOP/s | fused vs torch | fused vs unfused | fused / sgemm | unfused extra MB/call | fused ≟ unfused |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var r in rows)
            {
                string torchMs = r.Torch is { } t ? (t * 1e3).ToString("F2", Inv) : "—";
                string torchRate = r.Torch is { } t1 ? r.Cost.GflopsPerSecond(t1).ToString("F1", Inv) : "—";
                string speedup = r.Torch is { } t2 ? (t2 / r.Fused).ToString("F2", Inv) + "×" : "—";
                string ofSgemm = ceiling is null ? "—" : (r.Cost.GflopsPerSecond(r.Fused) / ceiling.SgemmGflops).ToString("P0", Inv);
                Line($"| {r.Shape} | {r.Fused * 1e3:F2} | {r.Cost.GflopsPerSecond(r.Fused):F1} | {r.Cost.GigabytesPerSecond(r.Fused):F1} | {r.Unfused * 1e3:F2} | {torchMs} | {torchRate} | {speedup} | {r.Unfused / r.Fused:F2}× | {ofSgemm} | {r.UnfusedExtraBytes / 1e6:F0} | {r.Agreement:E1} |");
            }
            md.AppendLine();
            foreach (var r in rows.Where(r => r.ReadFloor is not null))
            {
                double floor = r.ReadFloor!.Value;
                string peerStream = ceiling is null ? "" : FormattableString.Invariant(
                    $" (PyTorch's sgemv stream, on its own buffers in its own process, ran at {ceiling.ReadGbps:F1} GB/s: {r.Shape.KeyValueBytes / (ceiling.ReadGbps * 1e9) * 1e3:F1} ms for these bytes; on this shared VM the bandwidth a process gets varies up to 2× between processes, so the floor is measured on the kernel's own buffers)");
                Line($"Decode {r.Shape}: K and V are {r.Shape.KeyValueBytes / 1e6:F0} MB; reading those very buffers once on all cores (a vector sum, best of before and after the kernel) takes {floor * 1e3:F1} ms = {r.Shape.KeyValueBytes / floor / 1e9:F1} GB/s, the bandwidth floor; the fused kernel takes {r.Fused * 1e3:F1} ms = {r.Fused / floor:F2}× the floor{peerStream}.");
                md.AppendLine();
            }
            var big = AttentionShape.Standard.First(s => s.Heads == 16);
            Line($"Extra memory of the fused kernel: per-core scratch only, independent of batch size and query length: tiles take {FlashAttentionCpu.ScratchBytes(64) / 1024.0:F0} KiB in all on this machine for D = 64, and each core keeps a contiguous copy of one head's K and V (BTHD rows are H·D apart), at most {FlashAttentionCpu.MaxContiguousKeyValueFloats * sizeof(float) >> 20} MiB per core: {FlashAttentionCpu.ScratchBytes(64, big.KeyLength) / 1e6:F1} MB in all at {big} by the cost model; the scratch actually held after every run above is {CpuScratch.HeldBytes / 1e6:F1} MB (the unfused baseline allocates the score matrix: {4.0 * big.Heads * big.QueryLength * big.KeyLength / 1e6:F0} MB at {big}).");
            md.AppendLine();
            Goals(md);
            if (limits is not null)
            {
                md.AppendLine("## What limits the CPU kernel");
                md.AppendLine();
                md.AppendLine("Measured in the same run by the `limits` probe (`dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- limits` prints it alone): " +
                              "the FMA peak with registers only, then each phase of one flash-attention tile (Q·Kᵀ scores, the online-softmax step, P·V) on hot data on one thread, " +
                              "the phases in turn, one tile streaming a whole key sequence, and the full kernel on all cores. The gap between the FMA peak and the full kernel splits " +
                              "into: the softmax step (exp2, max, sum and rescale, no FLOPs counted), P·V below the scores' rate (its operand is the 64-wide probability block), " +
                              "the phases evicting each other's tiles from L1, and new K/V blocks arriving from L2.");
                md.AppendLine();
                md.AppendLine("```");
                md.Append(limits);
                md.AppendLine("```");
                md.AppendLine();
            }
            md.AppendLine("## Method");
            md.AppendLine();
            md.AppendLine("- **fused**: the generated kernel (flash attention with online softmax, AVX-512 or AVX2 via `Simd`, all cores via `CpuParallel`). **unfused**: `UnfusedAttention` in the benchmark project: S = scale·QKᵀ materialized for all heads, softmax in place, then P·V; vectorized GEMM-style register tiles on all cores, full score matrix computed and then masked, as a framework does. **torch naive**: `softmax(Q Kᵀ·scale + mask) @ V` with PyTorch (`benchmarks/peers/torch_peer.py`), the same materialized method with OpenBLAS SGEMM.");
            md.AppendLine("- One process pair, one run: the .NET runner keeps the PyTorch peer alive and measures each shape fused → unfused → torch back to back; the ceilings are measured before and after the shapes and the better of the two is used for the ratios.");
            md.AppendLine("- Timing, both sides: wall time per call, warm-up ≥ 1 call and ≥ 1 s (.NET's tiered JIT needs it), then 5–100 calls filling ~1 s (3 calls if one takes over 2 s); the median is reported.");
            md.AppendLine("- FLOPs for every method come from the fused kernel's cost model: 4·D per *visible* (query, key) pair, so causal rows count only the unmasked half (the unfused and torch methods compute the full matrix anyway). GB/s = compulsory Q+K+V+O bytes / time.");
            md.AppendLine("- `fused ≟ unfused` is the relative L2 difference of their outputs (a sanity check that both computed the same thing).");
            md.AppendLine("- PyTorch on Debian: use `/usr/bin/python3` (the pyenv one lacks torch), OpenBLAS OpenMP via `LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp` (package `libopenblas0-openmp`; the default reference BLAS is 10–35× slower), and set the thread count (torch picks 1 here). The runner does all three and pins OpenBLAS's kernel with `OPENBLAS_CORETYPE` (SkylakeX on an AVX-512 CPU, Haswell with AVX2; your own `OPENBLAS_CORETYPE` wins), because OpenBLAS 0.3.21 falls back to a generic core on CPUs it does not know; the BLAS line above says what actually ran. A generic core, a pin that did not take, or an impossible rate makes the run invalid (goals not evaluated, exit code 2).");
            md.AppendLine("- Options: `-- compare --write-docs` (write this page to docs/; default artifacts/benchmarks/), `--no-peers` (ours only), `--no-limits` (skip the limits probe), `--only \"T1024\"` (shapes whose label contains the text), `--out DIR`, `--python PATH`. The BenchmarkDotNet suite (fused vs unfused, allocations, GFLOP/s and GB/s columns): `dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- --filter '*'` (short in-process job by default, `--full` for BenchmarkDotNet's default job).");
            return md.ToString();
        }

        /// <summary>Issue 6's goals, each evaluated from this run's rows and ceilings (✔ met, ✘ not met, — not measured).</summary>
        private void Goals(StringBuilder md)
        {
            void Line(FormattableString s) => md.AppendLine(s.ToString(Inv));
            string? notEvaluated = problems.Count == 0 ? null : "not evaluated: " + problems[0] + (problems.Count > 1 ? $" (+{problems.Count - 1} more, see the top)" : "");
            string Mark(bool? met) => notEvaluated ?? met switch { true => "✔", false => "✘", null => "—" };
            md.AppendLine("## Goals, evaluated from this run");
            md.AppendLine();
            md.AppendLine("| goal | shape | measured | met |");
            md.AppendLine("| --- | --- | --- | :---: |");
            foreach (var r in rows.Where(r => r.Shape is { Kind: "self", Causal: false, HeadDim: 64, QueryLength: >= 1024 }))
            {
                double rate = r.Cost.GflopsPerSecond(r.Fused);
                double? ofSgemm = ceiling is null ? null : rate / ceiling.SgemmGflops;
                double? vsTorch = r.Torch is { } t ? t / r.Fused : null;
                Line($"| ≥ 60 % of sgemm and ≥ 3× torch naive | {r.Shape} | {rate:F1} GFLOP/s = {(ofSgemm is { } f ? f.ToString("P0", Inv) : "—")} of sgemm, {(vsTorch is { } v ? v.ToString("F2", Inv) + "×" : "—")} torch | {Mark(ofSgemm is null || vsTorch is null ? null : ofSgemm >= 0.6 && vsTorch >= 3)} |");
            }
            foreach (var r in rows.Where(r => r.Shape.Causal))
            {
                var twin = rows.FirstOrDefault(o => o.Shape == r.Shape with { Causal = false });
                if (twin is null)
                    continue;
                double rate = r.Cost.GflopsPerSecond(r.Fused), twinRate = twin.Cost.GflopsPerSecond(twin.Fused);
                // "The same GFLOP/s" within this page's stated noise band (~20 % on a shared machine, see the load line).
                Line($"| causal: the same GFLOP/s on the unmasked half | {r.Shape} | {rate:F1} vs {twinRate:F1} GFLOP/s non-causal = {rate / twinRate:F2}× | {Mark(rate >= 0.8 * twinRate)} |");
            }
            foreach (var r in rows.Where(r => r.ReadFloor is not null))
            {
                double floor = r.ReadFloor!.Value;
                Line($"| decode within 1.3× of the bandwidth floor (K and V read once) | {r.Shape} | {r.Fused * 1e3:F1} ms vs floor {floor * 1e3:F1} ms = {r.Fused / floor:F2}× | {Mark(r.Fused <= 1.3 * floor)} |");
            }
            if (rows.FirstOrDefault(r => r.Shape.Heads == 16) is { } big)
            {
                long held = CpuScratch.HeldBytes;
                Line($"| extra memory under 64 MB | {big.Shape} | {held / 1e6:F1} MB of per-core scratch held after all runs | {Mark(held < 64_000_000)} |");
            }
            md.AppendLine();
        }

        /// <summary>Horizontal grouped bars of GFLOP/s per shape (fused, unfused, torch) with the sgemm ceiling as a line. Hand-written SVG.</summary>
        public string Svg()
        {
            const int left = 250, width = 560, bar = 9, groupGap = 10, top = 40;
            var series = new (string Name, string Color, Func<Row, double?> Seconds)[]
            {
                ("fused (ours)", "#1f77b4", r => r.Fused), ("unfused (ours)", "#aec7e8", r => r.Unfused), ("torch naive", "#ff7f0e", r => r.Torch),
            };
            double max = rows.SelectMany(r => series.Select(s => s.Seconds(r) is { } t ? r.Cost.GflopsPerSecond(t) : 0)).Append(ceiling?.SgemmGflops ?? 0).Max() * 1.08;
            int groupHeight = series.Length * bar + groupGap;
            int height = top + rows.Count * groupHeight + 50;
            double X(double gflops) => left + gflops / max * width;
            var svg = new StringBuilder();
            void Add(FormattableString s) => svg.AppendLine(s.ToString(Inv));
            Add($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 40}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
            Add($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
            Add($"<text x=\"{left}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">Attention fp32, GFLOP/s (visible pairs), {threads} cores — higher is better</text>");
            for (int i = 0; i < series.Length; i++)
            {
                Add($"<rect x=\"{left + i * 130}\" y=\"24\" width=\"10\" height=\"10\" fill=\"{series[i].Color}\"/>");
                Add($"<text x=\"{left + i * 130 + 14}\" y=\"33\">{series[i].Name}</text>");
            }
            for (int g = 0; g < rows.Count; g++)
            {
                var r = rows[g];
                int y0 = top + g * groupHeight;
                Add($"<text x=\"{left - 6}\" y=\"{y0 + series.Length * bar / 2 + 4}\" text-anchor=\"end\">{r.Shape}</text>");
                for (int i = 0; i < series.Length; i++)
                {
                    if (series[i].Seconds(r) is not { } t)
                        continue;
                    double rate = r.Cost.GflopsPerSecond(t);
                    int y = y0 + i * bar;
                    Add($"<rect x=\"{left}\" y=\"{y}\" width=\"{X(rate) - left:F1}\" height=\"{bar - 1}\" fill=\"{series[i].Color}\"/>");
                    Add($"<text x=\"{X(rate) + 3:F1}\" y=\"{y + bar - 1}\" font-size=\"9\">{rate:F1}</text>");
                }
            }
            int axisY = top + rows.Count * groupHeight;
            Add($"<line x1=\"{left}\" y1=\"{top - 4}\" x2=\"{left}\" y2=\"{axisY}\" stroke=\"black\"/>");
            Add($"<line x1=\"{left}\" y1=\"{axisY}\" x2=\"{left + width}\" y2=\"{axisY}\" stroke=\"black\"/>");
            double step = max > 200 ? 50 : max > 80 ? 20 : 10;
            for (double v = 0; v <= max; v += step)
                Add($"<text x=\"{X(v):F1}\" y=\"{axisY + 14}\" text-anchor=\"middle\">{v:F0}</text>");
            if (ceiling is not null)
            {
                Add($"<line x1=\"{X(ceiling.SgemmGflops):F1}\" y1=\"{top - 4}\" x2=\"{X(ceiling.SgemmGflops):F1}\" y2=\"{axisY}\" stroke=\"#d62728\" stroke-dasharray=\"4,3\"/>");
                Add($"<text x=\"{X(ceiling.SgemmGflops):F1}\" y=\"{axisY + 28}\" text-anchor=\"middle\" fill=\"#d62728\">sgemm {ceiling.SgemmGflops:F0}</text>");
                Add($"<line x1=\"{X(0.6 * ceiling.SgemmGflops):F1}\" y1=\"{top - 4}\" x2=\"{X(0.6 * ceiling.SgemmGflops):F1}\" y2=\"{axisY}\" stroke=\"#999\" stroke-dasharray=\"2,3\"/>");
                Add($"<text x=\"{X(0.6 * ceiling.SgemmGflops):F1}\" y=\"{axisY + 28}\" text-anchor=\"middle\" fill=\"#666\">60% of sgemm</text>");
            }
            Add($"<text x=\"{left + width / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">GFLOP/s = 4·D·visible pairs / median time (decode is memory-bound: see the table)</text>");
            svg.AppendLine("</svg>");
            return svg.ToString();
        }

        private static string CpuModel()
        {
            if (!File.Exists("/proc/cpuinfo"))
                return RuntimeInformation.ProcessArchitecture.ToString();
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        }
    }
}

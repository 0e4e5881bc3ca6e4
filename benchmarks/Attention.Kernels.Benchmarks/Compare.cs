using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>The <c>compare</c> command's options (parsed in Program.cs).</summary>
/// <param name="NoPeers">Ours only: no LibTorch, no Python peer, no ceilings from them.</param>
/// <param name="NoLimits">Skip the limits probe (the FMA peak is still measured).</param>
/// <param name="Only">Only the rows whose label contains this text.</param>
/// <param name="OutDirectory">Where the page and charts go (default artifacts/benchmarks/).</param>
/// <param name="Python">The Python with torch 1.13 for the OpenBLAS ceilings.</param>
/// <param name="WriteDocs">Rewrite the tracked docs/performance.md and its charts.</param>
/// <param name="Rounds">Interleaved rounds per row.</param>
/// <param name="NoPython">Skip the Python peer (OpenBLAS sgemm and bandwidth ceilings).</param>
/// <param name="NoTier0">Skip the fresh-process tier-0 probe.</param>
public sealed record CompareOptions(bool NoPeers, bool NoLimits, string? Only, string? OutDirectory, string Python, bool WriteDocs = false,
    int Rounds = 5, bool NoPython = false, bool NoTier0 = false);

/// <summary>
/// <c>compare</c>: ours vs LibTorch 2.10's SDPA (its fused flash-attention CPU kernel) and the naive composition, in one
/// process, interleaved in rounds, on the issue-16 shapes in fp32 and on three shapes in fp16/bf16 against torch's bf16
/// SDPA; the same-run ceilings (sgemm of MKL in-process and of OpenBLAS in the Python peer, the bandwidth floor on the
/// kernel's own buffers, the FMA peak); a fresh 1-CPU process for the tier-0 goal. Prints the page and writes it with its
/// charts to artifacts/benchmarks/, or to the tracked docs/ with <c>--write-docs</c>. A run whose numbers are impossible
/// (<see cref="BenchmarkTrust"/>, or a peer that computed something else) is invalid: goals not evaluated, docs/ never
/// overwritten, exit code <see cref="InvalidRunExitCode"/>.
/// </summary>
public static class Compare
{
    public const string Command = "dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- compare";

    /// <summary>The exit code of a run whose numbers cannot be trusted (see <see cref="BenchmarkTrust"/>).</summary>
    public const int InvalidRunExitCode = 2;

    // Method names: the page's column heads and the charts' legends.
    public const string Ours = "ours", Unfused = "ours unfused", TorchSdpa = "LibTorch SDPA", TorchNaive = "LibTorch naive", ReadFloor = "K/V read floor",
        OursFp32 = "ours fp32";

    /// <summary>The 16-bit rows: prefill at T1024 (both masks) and multi-head decode, each in fp16 and bf16.</summary>
    private static IEnumerable<(AttentionShape Shape, Storage Storage)> Cases()
    {
        foreach (var s in AttentionShape.Standard)
            yield return (s, Storage.Fp32);
        foreach (var s in AttentionShape.Standard.Where(s => s is { Batch: 1, Heads: 8, QueryLength: 1024, KeyLength: 1024 } || s is { Kind: "decode", KvHeads: 32 }))
        {
            yield return (s, Storage.Bf16);
            yield return (s, Storage.Fp16);
        }
    }

    public static string Label(AttentionShape shape, Storage storage) => storage == Storage.Fp32 ? shape.ToString() : $"{shape} {storage.ToString().ToLowerInvariant()}";

    public static int Run(CompareOptions options)
    {
        string root = RepoRoot();
        int threads = CpuParallel.WorkerCount;
        var cases = Cases().Where(c => options.Only is null || Label(c.Shape, c.Storage).Contains(options.Only, StringComparison.Ordinal)).ToArray();
        var clock = Stopwatch.StartNew();
        string loadBefore = LoadAverage();
        var notes = new List<string>();

        // LibTorch in this process: the peer the goals are measured against. Without it the run goes on with the others.
        LibTorchPeer? torch = null;
        if (!options.NoPeers)
        {
            torch = LibTorchPeer.TryStart(threads, out string? whyNot);
            string line = torch is null ? $"LibTorch peer unavailable: {whyNot}; continuing without it (its columns and the goals against it stay empty)" : $"peer: {torch.Description}";
            Console.WriteLine(line);
            if (torch is null)
                notes.Add(line);
        }

        // The Python peer (torch 1.13 with Debian's OpenBLAS): a second sgemm ceiling and the bandwidth figures, its BLAS core pinned.
        var cpu = CpuFeatures();
        var pin = BenchmarkTrust.ChooseCoreType(Environment.GetEnvironmentVariable(BenchmarkTrust.CoreTypeVariable), cpu);
        string? cpuDefault = BenchmarkTrust.ChooseCoreType(null, cpu).Value;
        TorchPeer? python = null;
        JsonObject? hello = null;
        if (!options.NoPeers && !options.NoPython)
        {
            if (pin.Value is not null && cpuDefault is not null && !string.Equals(pin.Value, cpuDefault, StringComparison.OrdinalIgnoreCase))
                Console.Error.WriteLine($"note: your {BenchmarkTrust.CoreTypeVariable}={pin.Value} overrides this CPU's default {cpuDefault}; unset it to measure OpenBLAS on the CPU's own kernel.");
            try
            {
                python = TorchPeer.Start(root, threads, options.Python, pin.Value);
                hello = python.Hello();
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                string line = $"Python peer unavailable ({options.Python}): {e.Message}; continuing without the OpenBLAS ceiling";
                Console.WriteLine(line);
                notes.Add(line);
                python?.Dispose();
                python = null;
            }
        }
        var blas = hello is null ? null : new BlasKernel(pin, hello["blas_core"]?.GetValue<string>(), hello["coretype_env"]?.GetValue<string>(),
            string.Join(", ", (hello["blas_libraries"]?.AsArray() ?? []).Select(l => l?.GetValue<string>())), $"torch {hello["torch"]}, {hello["blas"]}");
        if (blas is not null)
            Console.WriteLine($"Python peer: {blas.Peer}; BLAS kernel pinned {blas.PinText}; it reports core {blas.ReportedCore ?? "(none)"}");

        var before = MeasureCeilings(torch, python);
        // The FMA peak too, before and after like the other ceilings: one probe on a loaded host read 312 against 404
        // GFLOP/s and made every prefill row look impossible.
        double fmaBefore = Limits.AllThreadFmaPeak();
        Console.WriteLine($"ceilings (before): {before.Detail}; FMA peak {fmaBefore:F1} GFLOP/s");

        // The first row measured in a process ran ~1.5× slow (JIT, the peers' thread pools and allocators settling), which
        // flattered every ratio against it: measure it once, unreported, first.
        if (cases.Length > 0)
            MeasureRow(cases[0].Shape, cases[0].Storage, torch, rounds: 1);

        var rows = new List<Row>();
        Console.WriteLine($"{"row",-40} {"ours ms",9} {"GFLOP/s",8} {"torch SDPA ms",13} {"SDPA/ours",9} {"naive ms",9} {"unfused ms",10}");
        foreach (var (shape, storage) in cases)
        {
            var row = MeasureRow(shape, storage, torch, options.Rounds);
            rows.Add(row);
            Console.WriteLine(row.ConsoleLine());
        }

        var after = MeasureCeilings(torch, python);
        Console.WriteLine($"ceilings (after): {after.Detail}");
        python?.Dispose();
        var ceilings = Ceilings.Best(before, after);

        Limits.Result? limits = null;
        string? limitsText = null;
        double fmaPeak;
        if (!options.NoLimits)
        {
            var probe = new StringWriter(CultureInfo.InvariantCulture);
            limits = Limits.Write(probe);
            limitsText = probe.ToString();
            fmaPeak = limits.FmaPeakAllThreads;
        }
        else
        {
            fmaPeak = Limits.AllThreadFmaPeak();
        }
        Console.WriteLine($"FMA peak (after): {fmaPeak:F1} GFLOP/s");
        fmaPeak = Math.Max(fmaBefore, fmaPeak);

        Tier0? tier0 = options.NoTier0 ? null : MeasureTier0();
        if (tier0 is not null)
            Console.WriteLine($"tier-0 probe (fresh process, DOTNET_PROCESSOR_COUNT=1): {tier0.Detail}");

        var problems = Problems(rows, ceilings, blas, fmaPeak);
        var run = new CompareRun(rows, ceilings, blas, torch?.Description, loadBefore, LoadAverage(), threads, limits, limitsText, fmaPeak, tier0,
            problems, notes, options.Rounds, clock.Elapsed);
        var (outDir, refused) = BenchmarkTrust.OutputDirectory(root, options.OutDirectory, options.WriteDocs, valid: problems.Count == 0);
        Directory.CreateDirectory(outDir);
        var charts = CompareCharts.Write(run, outDir);
        // The real model's table belongs to the minilm command: keep it from the page this run replaces.
        var kept = new[] { Path.Combine(outDir, "performance.md"), Path.Combine(root, "docs", "performance.md") }
            .Select(path => DocsSection.Read(path, MiniLmBench.SectionName)).FirstOrDefault(section => section is not null);
        string markdown = CompareReport.Markdown(run, charts, kept is null ? [] : [kept]);
        Console.WriteLine();
        Console.WriteLine(markdown);
        File.WriteAllText(Path.Combine(outDir, "performance.md"), markdown);
        if (refused is not null)
            Console.Error.WriteLine(refused);
        Console.WriteLine($"wrote {Path.Combine(outDir, "performance.md")} and {string.Join(", ", charts.Select(c => c.File))} in {clock.Elapsed.TotalMinutes:F1} min" +
                          (options.WriteDocs || options.OutDirectory is not null ? "" : " (docs/ is rewritten only with --write-docs)"));
        if (problems.Count == 0)
            return 0;
        Console.Error.WriteLine($"INVALID RUN: goals not evaluated, exit code {InvalidRunExitCode}:");
        foreach (string problem in problems)
            Console.Error.WriteLine($"  - {problem}");
        return InvalidRunExitCode;
    }

    /// <summary>Everything wrong with the run's numbers (empty when it can be trusted).</summary>
    private static List<string> Problems(List<Row> rows, Ceilings ceilings, BlasKernel? blas, double fmaPeak)
    {
        var problems = new List<string>();
        if (blas is not null && BenchmarkTrust.CoreProblem(blas.Pin.Value, blas.ReportedCore) is { } coreProblem)
            problems.Add(coreProblem);
        problems.AddRange(BenchmarkTrust.ImpossibleRates(
            rows.SelectMany(r => r.Methods.Where(m => m.Key is Ours or Unfused).Select(m => new BenchmarkTrust.Rate($"{m.Key} at {r.Label}", r.Gflops(m.Value.Median)))),
            rows.SelectMany(r => r.Methods.Where(m => m.Key is TorchSdpa or TorchNaive).Select(m => new BenchmarkTrust.Rate($"{m.Key} at {r.Label}", r.Gflops(m.Value.Median)))),
            ceilings.Sgemm, fmaPeak));
        foreach (var r in rows)
        {
            // A peer that computed something else is no peer: its output must match ours to the storage's rounding.
            double tolerance = r.Storage == Storage.Fp32 ? 1e-4 : 5e-2;
            if (r.TorchAgreement is { } a && !(a <= tolerance))
                problems.Add(FormattableString.Invariant($"{TorchSdpa} at {r.Label} differs from ours by {a:E1} (relative L2; more than {tolerance:E0})"));
            // Nothing reads K and V faster than a plain read of them: well below the floor means the floor or the kernel is wrong.
            if (r.Methods.TryGetValue(ReadFloor, out var floor) && r.Methods[Ours].Median < 0.8 * floor.Median)
                problems.Add(FormattableString.Invariant($"{Ours} at {r.Label} ({r.Methods[Ours].Median * 1e3:F2} ms) is faster than reading its K and V once ({floor.Median * 1e3:F2} ms)"));
        }
        return problems;
    }

    /// <summary>
    /// One row: every method warmed up, then <paramref name="rounds"/> rounds in which each method in turn (the order
    /// rotating) runs for ~0.2 s; a round contributes the median of its calls. Agreement of the outputs is checked after.
    /// </summary>
    private static Row MeasureRow(AttentionShape shape, Storage storage, LibTorchPeer? torch, int rounds)
    {
        using var work = new Workload(shape, Device.Cpu, storage);
        var methods = new List<(string Name, Action Call)> { (Ours, () => work.Run(Method.Fused)) };
        if (storage == Storage.Fp32 && shape.KvHeads == shape.Heads)
            methods.Add((Unfused, () => work.Run(Method.Unfused)));
        // Torch's 16-bit peer is bf16 (its CPU SDPA's 16-bit path); fp16 rows are compared with our fp32 only.
        using var sdpa = torch is null || storage == Storage.Fp16 ? null
            : torch.Prepare(shape, work.QueryData, work.KeyData, work.ValueData, naive: false, bf16: storage == Storage.Bf16);
        using var naive = torch is null || storage != Storage.Fp32 ? null : torch.Prepare(shape, work.QueryData, work.KeyData, work.ValueData, naive: true);
        if (sdpa is not null)
            methods.Add((TorchSdpa, sdpa.Run));
        if (naive is not null)
            methods.Add((TorchNaive, naive.Run));
        if (shape.Kind == "decode")
            methods.Add((ReadFloor, () => work.ReadKeysValues()));
        // A 16-bit row's goals compare it with our fp32 kernel on the same shape: timed in the same rounds, so the ratio
        // is paired round by round instead of spanning rows minutes apart (this VM's memory bandwidth drifts by 30 %+).
        using var fp32Twin = storage == Storage.Fp32 ? null : new Workload(shape, Device.Cpu, Storage.Fp32);
        if (fp32Twin is not null)
            methods.Add((OursFp32, () => fp32Twin.Run(Method.Fused)));

        var series = methods.Select(m => new Series(m.Name, m.Call)).ToArray();
        foreach (var s in series)
            s.Warm(0.3);
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < series.Length; i++)
            {
                // A pause between sides lets the other runtime's spinning threads (OpenMP, our workers) go to sleep.
                Thread.Sleep(10);
                series[(i + round) % series.Length].Round(0.2);
            }

        work.Run(Method.Fused);
        float[] ours = work.Output();
        double? torchAgreement = sdpa is null ? null : RelativeDifference(sdpa.Output(), ours);
        double? unfusedAgreement = null;
        if (series.Any(s => s.Name == Unfused))
        {
            work.Run(Method.Unfused);
            unfusedAgreement = RelativeDifference(work.Output(), ours);
        }
        return new Row(shape, storage, work.Cost, series.ToDictionary(s => s.Name, s => s.Summary()), torchAgreement, unfusedAgreement);
    }

    /// <summary>A method's timings within one row.</summary>
    private sealed class Series(string name, Action call)
    {
        private readonly List<double> _rounds = [];
        private double _estimate;

        public string Name => name;

        /// <summary>Calls until at least one call and <paramref name="seconds"/> have passed (.NET's tiers and torch's allocator settle).</summary>
        public void Warm(double seconds)
        {
            var clock = Stopwatch.StartNew();
            do
            {
                long start = Stopwatch.GetTimestamp();
                call();
                _estimate = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            while (clock.Elapsed.TotalSeconds < seconds && _estimate < seconds);
        }

        /// <summary>One round: as many calls as fill ~<paramref name="seconds"/> (1 to 50); their median.</summary>
        public void Round(double seconds)
        {
            int calls = (int)Math.Clamp(Math.Round(seconds / Math.Max(_estimate, 1e-6)), 1, 50);
            var times = new double[calls];
            for (int i = 0; i < calls; i++)
            {
                long start = Stopwatch.GetTimestamp();
                call();
                times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            double median = Median(times);
            _rounds.Add(median);
            _estimate = median;
        }

        public Sample Summary() => new([.. _rounds]);
    }

    private static Ceilings MeasureCeilings(LibTorchPeer? torch, TorchPeer? python)
    {
        double? mkl = torch is null ? null : LibTorchPeer.SgemmGflops(4096, reps: 3);
        JsonObject? json = python?.Ceilings();
        double? openBlas = json?["sgemm_gflops"]!.GetValue<double>();
        double? copy = json?["copy_gbs"]!.GetValue<double>(), read = json?["read_gbs"]!.GetValue<double>();
        return new Ceilings(mkl, openBlas, copy, read);
    }

    /// <summary>
    /// Launches this program's <c>warmup</c> command in a fresh process with DOTNET_PROCESSOR_COUNT=1 (what a 1-CPU
    /// container sees) and reads its first-second and steady-state medians.
    /// </summary>
    private static Tier0? MeasureTier0()
    {
        string? host = Environment.ProcessPath;
        if (host is null)
            return null;
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            info.ArgumentList.Add(typeof(Compare).Assembly.Location);
        foreach (string a in new[] { "warmup", "--seconds", "3" })
            info.ArgumentList.Add(a);
        info.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        using var process = Process.Start(info);
        if (process is null)
            return null;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var match = Regex.Match(output, @"first-second median (?<first>[0-9.]+) ms.*steady median \(last second\) (?<steady>[0-9.]+) ms", RegexOptions.Singleline);
        if (process.ExitCode != 0 || !match.Success)
            return null;
        double first = double.Parse(match.Groups["first"].Value, CultureInfo.InvariantCulture);
        double steady = double.Parse(match.Groups["steady"].Value, CultureInfo.InvariantCulture);
        return new Tier0(first, steady, string.Join(" ", output.Trim().Split('\n').Select(l => l.Trim())));
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
        int differing = TorchSemantics.Run(seed: Environment.TickCount);
        return difference < 1e-5 && differing == 0 ? 0 : 1;
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

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>‖actual − expected‖/‖expected‖ in fp64 (NaN on either side gives NaN).</summary>
    internal static double RelativeDifference(float[] actual, float[] expected)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff += (actual[i] - (double)expected[i]) * (actual[i] - (double)expected[i]);
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, double.Epsilon));
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
}

/// <summary>A method's per-round medians (seconds) in one row.</summary>
public sealed record Sample(double[] Rounds)
{
    public double Median => Compare.Median(Rounds);
    public double Min => Rounds.Min();
    public double Max => Rounds.Max();
}

/// <summary>One row of the page: a shape in one storage, each method's rounds, and how far the peers' outputs are from ours.</summary>
public sealed record Row(AttentionShape Shape, Storage Storage, KernelCost Cost, Dictionary<string, Sample> Methods, double? TorchAgreement, double? UnfusedAgreement)
{
    public string Label => Compare.Label(Shape, Storage);

    public double Gflops(double seconds) => Cost.GflopsPerSecond(seconds);

    /// <summary>Torch SDPA time / ours, paired round by round (both measured back to back), or null without torch.</summary>
    public Sample? VsTorch => Methods.TryGetValue(Compare.TorchSdpa, out var t)
        ? new Sample([.. t.Rounds.Zip(Methods[Compare.Ours].Rounds, (a, b) => a / b)])
        : null;

    /// <summary>A 16-bit row's time / our fp32 kernel's on the same shape, paired round by round, or null for an fp32 row.</summary>
    public Sample? VsOwnFp32 => Methods.TryGetValue(Compare.OursFp32, out var f)
        ? new Sample([.. Methods[Compare.Ours].Rounds.Zip(f.Rounds, (a, b) => a / b)])
        : null;

    /// <summary>A decode row's time / the read of its K and V in the same round, paired round by round, or null for other rows.</summary>
    public Sample? VsFloor => Methods.TryGetValue(Compare.ReadFloor, out var f)
        ? new Sample([.. Methods[Compare.Ours].Rounds.Zip(f.Rounds, (a, b) => a / b)])
        : null;

    public string ConsoleLine()
    {
        string Ms(string name) => Methods.TryGetValue(name, out var s) ? (s.Median * 1e3).ToString("F2", CultureInfo.InvariantCulture) : "-";
        var ours = Methods[Compare.Ours];
        string vs = VsTorch is { } v ? v.Median.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-";
        string floor = Methods.TryGetValue(Compare.ReadFloor, out var f) ? FormattableString.Invariant($"  (K/V read floor {f.Median * 1e3:F2} ms)") : "";
        return FormattableString.Invariant($"{Label,-40} {ours.Median * 1e3,9:F2} {Gflops(ours.Median),8:F1} {Ms(Compare.TorchSdpa),13} {vs,9} {Ms(Compare.TorchNaive),9} {Ms(Compare.Unfused),10}{floor}");
    }
}

/// <summary>The same-run ceilings: sgemm 4096³ of LibTorch's MKL (in this process) and of the Python peer's OpenBLAS, its copy and read GB/s.</summary>
public sealed record Ceilings(double? MklSgemm, double? OpenBlasSgemm, double? CopyGbps, double? ReadGbps)
{
    /// <summary>The best sgemm the machine demonstrably ran (our ratios must not be flattered by a slow BLAS), or null.</summary>
    public double? Sgemm => MklSgemm is null && OpenBlasSgemm is null ? null : Math.Max(MklSgemm ?? 0, OpenBlasSgemm ?? 0);

    public static Ceilings Best(Ceilings a, Ceilings b) => new(Max(a.MklSgemm, b.MklSgemm), Max(a.OpenBlasSgemm, b.OpenBlasSgemm), Max(a.CopyGbps, b.CopyGbps), Max(a.ReadGbps, b.ReadGbps));

    private static double? Max(double? x, double? y) => x is null ? y : y is null ? x : Math.Max(x.Value, y.Value);

    public string Detail => string.Create(CultureInfo.InvariantCulture,
        $"sgemm 4096³: MKL (LibTorch) {F(MklSgemm)}, OpenBLAS (Python peer) {F(OpenBlasSgemm)} GFLOP/s; copy {F(CopyGbps)} GB/s, read {F(ReadGbps)} GB/s");

    private static string F(double? x) => x is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "—";
}

/// <summary>The tier-0 probe: medians of the first second and of the last second of launches in a fresh 1-CPU process.</summary>
public sealed record Tier0(double FirstSecondMs, double SteadyMs, string Detail)
{
    /// <summary>The first second's speed as a fraction of the steady state's.</summary>
    public double FirstSecondOfSteady => SteadyMs / FirstSecondMs;
}

/// <summary>The Python peer's BLAS: the pin it was started with, the core its OpenBLAS reports, the libraries mapped.</summary>
internal sealed record BlasKernel(BenchmarkTrust.CorePin Pin, string? ReportedCore, string? PeerSawVariable, string Libraries, string Peer)
{
    public string PinText => Pin.Value is null ? Pin.Source : $"{BenchmarkTrust.CoreTypeVariable}={Pin.Value} ({Pin.Source}; the peer saw {PeerSawVariable ?? "none"})";
}

/// <summary>Everything one <c>compare</c> run measured, for the page and the charts.</summary>
internal sealed record CompareRun(List<Row> Rows, Ceilings Ceilings, BlasKernel? Blas, string? Torch, string LoadBefore, string LoadAfter, int Threads,
    Limits.Result? Limits, string? LimitsText, double FmaPeak, Tier0? Tier0, List<string> Problems, List<string> Notes, int Rounds, TimeSpan Elapsed);

using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>The page of one <c>compare</c> run: setup, table, goals evaluated, the charts, what limits the kernel, the method.</summary>
internal static class CompareReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Issue 16's goals (thresholds in one place: the page states and evaluates these).</summary>
    public const double VsTorchGoal = 1.3, SelfOfSgemmGoal = 0.85, CrossOfSgemmGoal = 0.70, DecodeOfFloorGoal = 1.1,
        SixteenBitPrefillGoal = 0.95, SixteenBitDecodeGoal = 0.6, Tier0Goal = 0.8;

    /// <summary>One goal on one row: what was measured and whether it is met (null: not measured).</summary>
    public sealed record Goal(string Name, string Row, string Measured, bool? Met);

    public static List<Goal> Goals(CompareRun run)
    {
        var goals = new List<Goal>();
        var fp32 = run.Rows.Where(r => r.Storage == Storage.Fp32).ToList();
        foreach (var r in fp32)
        {
            var v = r.VsTorch;
            goals.Add(new Goal($"≥ {VsTorchGoal:F1}× LibTorch SDPA (median of paired rounds)", r.Label,
                v is null ? "no LibTorch" : string.Create(Inv, $"{v.Median:F2}× (rounds {v.Min:F2}–{v.Max:F2})"), v is null ? null : v.Median >= VsTorchGoal));
        }
        foreach (var r in fp32.Where(r => r.Shape is { Kind: "self", Causal: false, QueryLength: >= 1024 } || r.Shape.Kind == "cross"))
        {
            double goal = r.Shape.Kind == "cross" ? CrossOfSgemmGoal : SelfOfSgemmGoal;
            double rate = r.Gflops(r.Methods[Compare.Ours].Median);
            double? of = run.Ceilings.Sgemm is { } s ? rate / s : null;
            goals.Add(new Goal($"≥ {goal:P0} of the same-run sgemm ({(r.Shape.Kind == "cross" ? "cross" : "non-causal T ≥ 1024")})", r.Label,
                of is { } f ? string.Create(Inv, $"{rate:F1} of {run.Ceilings.Sgemm:F1} GFLOP/s = {f:P0}") : "no sgemm ceiling", of is null ? null : of >= goal));
        }
        foreach (var r in run.Rows.Where(r => r.Storage == Storage.Fp32))
        {
            // Paired with the read of the same buffers in the same round: the VM's bandwidth drifts within a run.
            if (r.VsFloor is not { } paired)
                continue;
            double ours = r.Methods[Compare.Ours].Median, floor = r.Methods[Compare.ReadFloor].Median;
            goals.Add(new Goal($"decode ≤ {DecodeOfFloorGoal:F1}× the bandwidth floor (its own K/V read once, paired rounds)", r.Label,
                string.Create(Inv, $"{ours * 1e3:F2} vs {floor * 1e3:F2} ms = {paired.Median:F2}× (rounds {paired.Min:F2}–{paired.Max:F2})"),
                paired.Median <= DecodeOfFloorGoal));
        }
        foreach (var r in run.Rows.Where(r => r.Storage != Storage.Fp32))
        {
            // Against our fp32 kernel timed in the same rounds (paired), not the fp32 row measured minutes earlier.
            if (r.VsOwnFp32 is not { } paired)
                continue;
            string vsTorch = r.VsTorch is { } t ? string.Create(Inv, $"; torch bf16 SDPA / ours {t.Median:F2}×") : "";
            double ours = r.Methods[Compare.Ours].Median, fp = r.Methods[Compare.OursFp32].Median;
            if (r.Shape.Kind == "decode")
                goals.Add(new Goal($"16-bit K/V decode ≤ {SixteenBitDecodeGoal:F1}× the fp32 decode time (paired rounds)", r.Label,
                    string.Create(Inv, $"{ours * 1e3:F2} vs {fp * 1e3:F2} ms fp32 = {paired.Median:F2}× (rounds {paired.Min:F2}–{paired.Max:F2}){vsTorch}"), paired.Median <= SixteenBitDecodeGoal));
            else
                goals.Add(new Goal($"16-bit prefill ≥ {SixteenBitPrefillGoal:F2}× the fp32 GFLOP/s (paired rounds)", r.Label,
                    string.Create(Inv, $"{r.Gflops(ours):F1} vs {r.Gflops(fp):F1} GFLOP/s fp32 = {1 / paired.Median:F2}× (rounds {1 / paired.Max:F2}–{1 / paired.Min:F2}){vsTorch}"),
                    1 / paired.Median >= SixteenBitPrefillGoal));
        }
        goals.Add(run.Tier0 is { } t0
            ? new Goal($"no tier-0 cliff: first second at DOTNET_PROCESSOR_COUNT=1 ≥ {Tier0Goal:P0} of steady state", "B1 H8 Tq512 Tk512 D64",
                string.Create(Inv, $"first-second median {t0.FirstSecondMs:F2} ms, steady {t0.SteadyMs:F2} ms = {t0.FirstSecondOfSteady:P0}"), t0.FirstSecondOfSteady >= Tier0Goal)
            : new Goal($"no tier-0 cliff: first second at DOTNET_PROCESSOR_COUNT=1 ≥ {Tier0Goal:P0} of steady state", "B1 H8 Tq512 Tk512 D64", "not measured", null));
        return goals;
    }

    /// <summary>The last heading of the page; other commands' sections go before it.</summary>
    public const string MethodHeading = "## Method";

    /// <param name="run">The measured run.</param>
    /// <param name="charts">The charts written beside the page.</param>
    /// <param name="keptSections">Sections other commands own in the page (e.g. minilm's), copied from the page being replaced.</param>
    public static string Markdown(CompareRun run, IReadOnlyList<CompareCharts.Chart> charts, IEnumerable<string> keptSections)
    {
        var md = new StringBuilder();
        void Line(FormattableString s) => md.AppendLine(s.ToString(Inv));
        md.AppendLine("# Performance: fused CPU attention side by side with LibTorch 2.10");
        md.AppendLine();
        md.AppendLine("Generated by the side-by-side runner. This command rewrites this page and its charts (without `--write-docs` they go to `artifacts/benchmarks/`; an invalid run never replaces this page):");
        md.AppendLine();
        md.AppendLine("```");
        md.AppendLine(Compare.Command + " --write-docs");
        md.AppendLine("```");
        md.AppendLine();
        if (run.Problems.Count > 0)
        {
            md.AppendLine("**INVALID RUN: the goals below are not evaluated.** The numbers are impossible or a peer is not a fair one:");
            md.AppendLine();
            foreach (string problem in run.Problems)
                md.AppendLine($"- {problem}");
            md.AppendLine();
        }
        var notes = new List<string>(run.Notes);
        // LibTorch's sgemm is MKL's: on CPUs MKL does not tune for (this AMD one: AVX2 paths only) it runs well below
        // OpenBLAS, and torch's flash attention, built on it, with it. Say so where the ratios against torch are read.
        if (run.Ceilings is { MklSgemm: { } mkl, OpenBlasSgemm: { } openBlas } && mkl < 0.7 * openBlas)
            notes.Add(string.Create(Inv, $"LibTorch's own sgemm (MKL) ran at {mkl:F0} GFLOP/s here, {mkl / openBlas:P0} of OpenBLAS's {openBlas:F0} on the same CPU: its SDPA is built on that sgemm, so on this CPU the ratios against LibTorch partly measure MKL's code path for it. The sgemm goals use the better ceiling."));
        foreach (string note in notes)
            md.AppendLine($"> {note}").AppendLine(">");
        if (notes.Count > 0)
            md.AppendLine();

        var goals = Goals(run);
        GoalsSummary(md, run, goals);

        md.AppendLine("| item | value |");
        md.AppendLine("| --- | --- |");
        Line($"| date, duration | {DateTime.Now:yyyy-MM-dd HH:mm zzz}, {run.Elapsed.TotalMinutes:F1} min |");
        Line($"| machine | {CpuModel()}, {Environment.ProcessorCount} CPUs, {(Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "no wide SIMD")} path |");
        Line($"| load average (1/5/15 min) | before {run.LoadBefore}, after {run.LoadAfter} (a shared machine shows in the error bars) |");
        Line($"| ours | {RuntimeInformation.FrameworkDescription}, {run.Threads} worker threads |");
        Line($"| LibTorch (same process) | {run.Torch ?? "not loaded"} |");
        if (run.Blas is { } blas)
            Line($"| Python peer (ceilings only) | {blas.Peer}; OpenBLAS kernel pinned {blas.PinText}; it reports core **{blas.ReportedCore ?? "(none)"}** ({blas.Libraries}) |");
        Line($"| ceilings (best of before/after) | {run.Ceilings.Detail}; the sgemm ceiling is the better one; FMA peak (registers only, {run.Threads} threads) {run.FmaPeak:F1} GFLOP/s |");
        Line($"| rounds | {run.Rounds} interleaved rounds per row, each method ~0.2 s per round (median of its calls); the tables show the median over rounds, the charts min–max |");
        Line($"| trust checks | {(run.Problems.Count == 0 ? "passed: every rate positive, ours below the sgemm ceiling and the FMA peak, the peers' outputs equal to ours within the storage's rounding, decode not faster than reading K/V" : $"INVALID ({run.Problems.Count} problem(s), listed above)")} |");
        md.AppendLine();

        foreach (var chart in charts)
            md.AppendLine($"![{chart.Title}]({chart.File})").AppendLine();

        md.AppendLine("## Rows");
        md.AppendLine();
        md.AppendLine($"Times in ms (median of the rounds); GFLOP/s = 4·D per visible (query, key) pair / time, for every method; `SDPA / ours` is torch's time over ours, paired round by round. 16-bit rows compare with LibTorch's **bf16** SDPA (fp16 rows: ours only), and their goals with our fp32 kernel on the same shape timed in the same rounds (`ours fp32`, paired round by round).");
        md.AppendLine();
        md.AppendLine("| row | ours ms | ours GFLOP/s | of sgemm | LibTorch SDPA ms | SDPA / ours | LibTorch naive ms | ours unfused ms | torch ≟ ours | K/V read floor ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in run.Rows)
        {
            string Ms(string name) => r.Methods.TryGetValue(name, out var s) ? (s.Median * 1e3).ToString("F2", Inv) : "—";
            double ours = r.Methods[Compare.Ours].Median;
            string ofSgemm = run.Ceilings.Sgemm is { } sg && r.Shape.Kind != "decode" ? (r.Gflops(ours) / sg).ToString("P0", Inv) : "—";
            string vs = r.VsTorch is { } v ? string.Create(Inv, $"{v.Median:F2}×") : "—";
            string agree = r.TorchAgreement is { } a ? a.ToString("E1", Inv) : "—";
            Line($"| {r.Label} | {ours * 1e3:F2} | {r.Gflops(ours):F1} | {ofSgemm} | {Ms(Compare.TorchSdpa)} | {vs} | {Ms(Compare.TorchNaive)} | {Ms(Compare.Unfused)} | {agree} | {Ms(Compare.ReadFloor)} |");
        }
        md.AppendLine();
        foreach (var r in run.Rows.Where(r => r.Methods.ContainsKey(Compare.ReadFloor)))
        {
            double floor = r.Methods[Compare.ReadFloor].Median, ours = r.Methods[Compare.Ours].Median;
            double bytes = r.Shape.KeyElements * 2.0 * (r.Storage == Storage.Fp32 ? 4 : 2);
            Line($"Decode {r.Label}: K and V are {bytes / 1e6:F0} MB; reading those very buffers once on all cores (a vector sum) takes {floor * 1e3:F2} ms = {bytes / floor / 1e9:F1} GB/s, the bandwidth floor; ours takes {ours * 1e3:F2} ms = {ours / floor:F2}× the floor.");
            md.AppendLine();
        }

        md.AppendLine("## Goals, evaluated from this run");
        md.AppendLine();
        string? notEvaluated = run.Problems.Count == 0 ? null : "not evaluated (invalid run)";
        md.AppendLine("| goal | row | measured | met |");
        md.AppendLine("| --- | --- | --- | :---: |");
        foreach (var g in goals)
            md.AppendLine($"| {g.Name} | {g.Row} | {g.Measured} | {notEvaluated ?? (g.Met switch { true => "✔", false => "✘", null => "—" })} |");
        md.AppendLine();

        if (run.LimitsText is not null)
        {
            md.AppendLine("## What limits the CPU kernel");
            md.AppendLine();
            md.AppendLine("Measured in the same run by the `limits` probe (`dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- limits` prints it alone): " +
                          "the FMA peak with registers only, then each phase of one flash-attention tile (Q·Kᵀ scores, the online-softmax step, P·V) on hot data on one thread, " +
                          "the phases in turn, one tile streaming a whole key sequence, and the full kernel on all cores. The stacked bar above is the same split.");
            md.AppendLine();
            md.AppendLine("```");
            md.Append(run.LimitsText);
            md.AppendLine("```");
            md.AppendLine();
        }

        foreach (string section in keptSections)
        {
            md.Append(section);
            md.AppendLine();
        }

        md.AppendLine(MethodHeading);
        md.AppendLine();
        md.AppendLine("- **ours**: the generated fused kernel (flash attention with online softmax, AVX-512 or AVX2, all cores). **LibTorch SDPA**: `torch.nn.functional.scaled_dot_product_attention` of LibTorch 2.10 through TorchSharp 0.107 in this very process (its CPU dispatcher picks the fused flash-attention kernel for these inputs), on contiguous [B, H, T, D] copies of the same data (its faster layout; the copy is not timed), `is_causal` for causal rows (the same as our bottom-right mask when Tq = Tk); grouped-query rows repeat K and V to all heads once, untimed (TorchSharp 0.107 has no `enable_gqa`). **LibTorch naive**: softmax(Q·Kᵀ·scale + mask)·V with LibTorch's MKL matmuls. **ours unfused**: `UnfusedAttention`, our own materialized three-pass baseline.");
        md.AppendLine("- LibTorch needs a build-output edit on Debian 12 (its glue asks for GLIBCXX_3.4.32, which libstdc++ 12 lacks, for one symbol nothing calls): the runner makes it by itself before loading (`LibTorchSharpPatch.cs`, see [performance-runner.md](performance-runner.md)); `-- torch-check` loads LibTorch and checks one SDPA against ours.");
        md.AppendLine("- Interleaving: every method of a row is warmed up (≥ 1 call, ≥ 0.3 s), then the row runs in rounds; in each round every method runs ~0.2 s (1–50 calls, median kept), the order rotating from round to round, with a 10 ms pause between methods so the other runtime's spinning threads sleep. `SDPA / ours` is computed per round (the two ran seconds apart) and its median reported.");
        md.AppendLine("- Ceilings, measured before and after the rows (the better kept): the all-thread FMA peak (registers only), sgemm 4096³ of LibTorch's MKL in this process and of the Python peer's OpenBLAS (torch 1.13, Debian), whose kernel is pinned with `OPENBLAS_CORETYPE` and checked (a generic core makes the run invalid); the decode floor is a plain read of the row's own K and V buffers, measured in the same rounds as the kernel.");
        md.AppendLine("- Tier-0: a fresh process of this program with `DOTNET_PROCESSOR_COUNT=1` launches B1 H8 T512 back to back for 3 s (`-- warmup`); the first second's median against the last second's.");
        md.AppendLine("- Trust: a rate that is not positive, ours above the sgemm ceiling or the FMA peak, a peer's sgemm under 20 % of the FMA peak, a peer output that differs from ours (fp32 > 1e-4, 16-bit > 5e-2 relative L2) or a decode faster than reading its K/V makes the run invalid: goals not evaluated, exit code 2, docs/ untouched.");
        md.AppendLine("- Options: `--rounds N` (default 5), `--only TEXT` (rows whose label contains it), `--no-python`, `--no-peers`, `--no-limits`, `--no-tier0`, `--out DIR`, `--write-docs`.");
        return md.ToString();
    }

    /// <summary>The short verdict at the top: how many goals are met, and for those that are not, the measured gap.</summary>
    private static void GoalsSummary(StringBuilder md, CompareRun run, List<Goal> goals)
    {
        if (run.Problems.Count > 0)
            return;
        var measured = goals.Where(g => g.Met is not null).ToList();
        md.AppendLine(string.Create(Inv, $"**Goals: {measured.Count(g => g.Met == true)} of {measured.Count} met** (details below)."));
        var missed = measured.Where(g => g.Met == false).GroupBy(g => g.Name).ToList();
        if (missed.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Not met:");
            md.AppendLine();
            foreach (var group in missed)
                md.AppendLine($"- {group.Key}: {string.Join("; ", group.Select(g => $"{g.Row} {g.Measured}"))}.");
        }
        if (run.Limits is { } l)
        {
            double phases = l.Scores + l.Softmax + l.Values;
            md.AppendLine();
            md.AppendLine(string.Create(Inv,
                $"What limits the kernel, measured by the probe below: per key block on one core, Q·Kᵀ and P·V run at {l.BlockFlops / l.Scores / 1e9:F0} and {l.BlockFlops / l.Values / 1e9:F0} GFLOP/s (the 1-thread FMA peak measured {l.FmaPeakOneThread:F0}), the online softmax takes {l.Softmax / phases:P0} of the phases' time, the phases evicting each other's tiles add {Math.Max(0, l.Interleaved - phases) / phases:P0} and new K/V blocks arriving from L2 {Math.Max(0, l.Streamed - l.Interleaved) / l.Interleaved:P0}; the full kernel on {run.Threads} threads ran at {l.FullKernelGflops:F0} GFLOP/s."));
        }
        md.AppendLine();
    }

    private static string CpuModel()
    {
        if (!File.Exists("/proc/cpuinfo"))
            return RuntimeInformation.ProcessArchitecture.ToString();
        string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
    }
}

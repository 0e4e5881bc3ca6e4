using System.Globalization;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// Whether a <c>compare</c> run can be trusted: which OpenBLAS kernel the PyTorch peer is pinned to, whether the core
/// it reports is a real one, and whether the measured rates are physically possible. Pure logic with no dependency
/// beyond the BCL, so tests/Attention.Kernels.Tests compiles this very file (linked) and tests it.
/// </summary>
/// <remarks>
/// Why: OpenBLAS 0.3.21 (Debian 12) does not recognize newer cores (Intel family 6 model 207, AMD family 26) and falls
/// back to a generic kernel (Prescott); torch's sgemm then ran at a fraction of the machine, and a page printed
/// "307 % of sgemm" with its goals marked met.
/// </remarks>
internal static class BenchmarkTrust
{
    /// <summary>The environment variable OpenBLAS (DYNAMIC_ARCH builds) reads to choose its kernel instead of detecting the CPU.</summary>
    public const string CoreTypeVariable = "OPENBLAS_CORETYPE";

    /// <summary>A peer's sgemm below this fraction of the same-run all-thread FMA peak is not a fair peer.</summary>
    public const double PeerSgemmFloorOfPeak = 0.20;

    /// <summary>Cores OpenBLAS falls back to when it does not know the CPU (a different real core is caught as "the pin did not take").</summary>
    private static readonly string[] GenericCores = ["generic", "unknown", "prescott", "core2", "katmai", "coppermine", "northwood", "banias"];

    /// <summary>The x86 features that decide the kernel: AVX-512 as Skylake-X has it (F, CD, BW, DQ, VL), and AVX2 with FMA.</summary>
    public readonly record struct CpuFeatures(bool Avx512, bool Avx2);

    /// <summary>Reads the first <c>flags</c> line of /proc/cpuinfo text.</summary>
    public static CpuFeatures ParseCpuInfo(string cpuinfo)
    {
        string? line = cpuinfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        if (line is null || line.IndexOf(':', StringComparison.Ordinal) < 0)
            return default;
        var flags = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        bool avx512 = new[] { "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl" }.All(flags.Contains);
        bool avx2 = flags.Contains("avx2") && flags.Contains("fma");
        return new CpuFeatures(avx512, avx2);
    }

    /// <summary>The pin for the peer and where it came from.</summary>
    /// <param name="Value">What OPENBLAS_CORETYPE is set to, or null (OpenBLAS detects the CPU itself).</param>
    /// <param name="Source">Why: the user's environment, the default for the CPU's features, or none.</param>
    public sealed record CorePin(string? Value, string Source);

    /// <summary>
    /// The user's own OPENBLAS_CORETYPE wins; otherwise SkylakeX on an AVX-512 CPU, Haswell with AVX2 only, and no
    /// pin on anything older (OpenBLAS's detection is then as good as any default).
    /// </summary>
    public static CorePin ChooseCoreType(string? userSetting, CpuFeatures cpu)
    {
        if (!string.IsNullOrWhiteSpace(userSetting))
            return new CorePin(userSetting.Trim(), $"your {CoreTypeVariable}");
        if (cpu.Avx512)
            return new CorePin("SkylakeX", "default for an AVX-512 CPU");
        if (cpu.Avx2)
            return new CorePin("Haswell", "default for an AVX2 CPU");
        return new CorePin(null, "not pinned (no AVX2): OpenBLAS detects the CPU");
    }

    /// <summary>True for a core OpenBLAS uses when it does not recognize the CPU (or when the BLAS is not OpenBLAS at all).</summary>
    public static bool IsGenericCore(string? core) =>
        string.IsNullOrWhiteSpace(core) || GenericCores.Contains(core.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Why the peer's BLAS kernel makes the run untrustworthy, or null when it is the pinned, specific one.</summary>
    /// <param name="pinned">The OPENBLAS_CORETYPE the peer was started with (null: not pinned).</param>
    /// <param name="reportedCore">What the peer's loaded OpenBLAS says it runs (<c>openblas_get_corename</c>), null if not OpenBLAS.</param>
    public static string? CoreProblem(string? pinned, string? reportedCore)
    {
        if (string.IsNullOrWhiteSpace(reportedCore))
            return "the peer's BLAS core is unknown (not OpenBLAS, or it did not say)";
        if (IsGenericCore(reportedCore))
            return $"the peer's OpenBLAS runs the generic core '{reportedCore}'" + (pinned is null
                ? " (not pinned: set OPENBLAS_CORETYPE to the CPU's core, e.g. SkylakeX or Haswell)"
                : string.Equals(pinned.Trim(), reportedCore.Trim(), StringComparison.OrdinalIgnoreCase)
                    ? " (pinned so by OPENBLAS_CORETYPE)"
                    : $" although pinned to '{pinned}'");
        if (pinned is not null && !string.Equals(pinned.Trim(), reportedCore.Trim(), StringComparison.OrdinalIgnoreCase))
            return $"the peer's OpenBLAS runs core '{reportedCore}', not the pinned '{pinned}' (the pin did not take)";
        return null;
    }

    /// <summary>One measured rate of the run.</summary>
    /// <param name="Name">What ran, for the message, e.g. "fused at B1 H8 Tq1024 Tk1024 D64".</param>
    /// <param name="Gflops">Its GFLOP/s.</param>
    public readonly record struct Rate(string Name, double Gflops);

    /// <summary>
    /// Reasons the run's numbers are impossible (empty when none): any rate that is not a positive finite number; one of
    /// our kernels above the same-run sgemm ceiling or above the measured all-thread FMA peak; the peer's sgemm below
    /// <see cref="PeerSgemmFloorOfPeak"/> of that peak.
    /// </summary>
    /// <param name="ours">Our kernels' rates (fused, unfused) on each shape.</param>
    /// <param name="peer">The peer's rates on each shape (checked only for being positive and finite).</param>
    /// <param name="sgemmGflops">The same-run sgemm ceiling (the peer's torch.matmul 4096³), null without a peer.</param>
    /// <param name="fmaPeakGflops">The same-run all-thread FMA peak, null if not measured.</param>
    public static List<string> ImpossibleRates(IEnumerable<Rate> ours, IEnumerable<Rate> peer, double? sgemmGflops, double? fmaPeakGflops)
    {
        var reasons = new List<string>();
        static bool Bad(double x) => !double.IsFinite(x) || x <= 0;
        static string F(double x) => x.ToString("F1", CultureInfo.InvariantCulture);
        if (sgemmGflops is { } s && Bad(s))
            reasons.Add($"the sgemm ceiling is {F(s)} GFLOP/s");
        if (fmaPeakGflops is { } p && Bad(p))
            reasons.Add($"the FMA peak is {F(p)} GFLOP/s");
        double? sgemm = sgemmGflops is { } s1 && !Bad(s1) ? s1 : null;
        double? peak = fmaPeakGflops is { } p1 && !Bad(p1) ? p1 : null;
        foreach (var r in ours.Concat(peer))
            if (Bad(r.Gflops))
                reasons.Add($"{r.Name}: {F(r.Gflops)} GFLOP/s");
        foreach (var r in ours.Where(r => !Bad(r.Gflops)))
        {
            if (sgemm is { } c && r.Gflops > c)
                reasons.Add($"{r.Name}: {F(r.Gflops)} GFLOP/s is above the same-run sgemm ceiling {F(c)} GFLOP/s ({(r.Gflops / c).ToString("P0", CultureInfo.InvariantCulture)})");
            if (peak is { } f && r.Gflops > f)
                reasons.Add($"{r.Name}: {F(r.Gflops)} GFLOP/s is above the measured FMA peak {F(f)} GFLOP/s");
        }
        if (sgemm is { } g && peak is { } q && g < PeerSgemmFloorOfPeak * q)
            reasons.Add($"the peer's sgemm {F(g)} GFLOP/s is below {PeerSgemmFloorOfPeak.ToString("P0", CultureInfo.InvariantCulture)} of the measured FMA peak {F(q)} GFLOP/s (a generic or reference BLAS kernel)");
        return reasons;
    }

    /// <summary>
    /// Where the page goes: <paramref name="outDirectory"/> if given, else docs/ with <paramref name="writeDocs"/>, else
    /// artifacts/benchmarks/; an invalid run never replaces the tracked docs/ page and goes to artifacts/benchmarks/ instead.
    /// </summary>
    /// <returns>The folder, and a note when the requested one was refused (null otherwise).</returns>
    public static (string Directory, string? Refused) OutputDirectory(string repoRoot, string? outDirectory, bool writeDocs, bool valid)
    {
        string docs = Path.GetFullPath(Path.Combine(repoRoot, "docs"));
        string artifacts = Path.GetFullPath(Path.Combine(repoRoot, "artifacts", "benchmarks"));
        string wanted = outDirectory is not null ? Path.GetFullPath(outDirectory) : writeDocs ? docs : artifacts;
        bool isDocs = string.Equals(wanted.TrimEnd(Path.DirectorySeparatorChar), docs.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
        return !valid && isDocs
            ? (artifacts, $"not written to {wanted}: this run is invalid, the tracked page stays as it was")
            : (wanted, null);
    }
}

using Attention.Kernels.Benchmarks;
using Xunit;

namespace Attention.Kernels.Tests.Benchmarks;

/// <summary>The compare runner's trust rules: the OpenBLAS core pin, the core check, impossible rates, where the page goes.</summary>
public sealed class BenchmarkTrustTests
{
    private const string Avx512Flags = "processor\t: 0\nflags\t\t: fpu sse2 avx fma avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16\n";
    private const string Avx2Flags = "processor\t: 0\nflags\t\t: fpu sse2 avx fma avx2\n";

    [Fact]
    public void Cpuinfo_flags_give_the_features()
    {
        Assert.Equal(new BenchmarkTrust.CpuFeatures(Avx512: true, Avx2: true), BenchmarkTrust.ParseCpuInfo(Avx512Flags));
        Assert.Equal(new BenchmarkTrust.CpuFeatures(Avx512: false, Avx2: true), BenchmarkTrust.ParseCpuInfo(Avx2Flags));
        // Knights Landing style: AVX-512F without BW/VL is not a Skylake-X.
        Assert.False(BenchmarkTrust.ParseCpuInfo("flags : avx2 fma avx512f avx512cd").Avx512);
        Assert.Equal(default, BenchmarkTrust.ParseCpuInfo("processor : 0\nmodel name : something\n"));
    }

    [Theory]
    [InlineData(null, Avx512Flags, "SkylakeX")]
    [InlineData("", Avx512Flags, "SkylakeX")]
    [InlineData(null, Avx2Flags, "Haswell")]
    [InlineData(null, "flags : sse2 avx", null)]
    [InlineData("Haswell", Avx512Flags, "Haswell")] // the user's own variable wins
    [InlineData(" Zen ", Avx2Flags, "Zen")]
    public void Core_type_is_chosen_from_the_cpu_unless_the_user_set_one(string? user, string cpuinfo, string? expected)
    {
        var pin = BenchmarkTrust.ChooseCoreType(user, BenchmarkTrust.ParseCpuInfo(cpuinfo));
        Assert.Equal(expected, pin.Value);
        Assert.Equal(!string.IsNullOrWhiteSpace(user), pin.Source.Contains("your", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("SkylakeX", "SkylakeX", false)]
    [InlineData("skylakex", "SkylakeX", false)]
    [InlineData(null, "Cooperlake", false)] // not pinned, a specific core: trusted
    [InlineData("SkylakeX", "Prescott", true)] // the generic fallback of OpenBLAS 0.3.21 on cores it does not know
    [InlineData(null, "Core2", true)]
    [InlineData(null, "generic", true)]
    [InlineData("SkylakeX", "Haswell", true)] // the pin did not take
    [InlineData("SkylakeX", null, true)] // not OpenBLAS
    [InlineData(null, "", true)]
    public void A_generic_unknown_or_unpinned_core_is_a_problem(string? pinned, string? reported, bool problem)
    {
        Assert.Equal(problem, BenchmarkTrust.CoreProblem(pinned, reported) is not null);
    }

    private static BenchmarkTrust.Rate R(string name, double gflops) => new(name, gflops);

    [Fact]
    public void Plausible_rates_pass()
    {
        Assert.Empty(BenchmarkTrust.ImpossibleRates([R("fused", 190), R("unfused", 70)], [R("torch", 45)], sgemmGflops: 250, fmaPeakGflops: 380));
        Assert.Empty(BenchmarkTrust.ImpossibleRates([R("fused", 190)], [], sgemmGflops: null, fmaPeakGflops: null));
    }

    [Fact]
    public void A_kernel_above_the_sgemm_ceiling_is_impossible()
    {
        // The page that printed "307 % of sgemm": torch on a generic OpenBLAS core.
        var reasons = BenchmarkTrust.ImpossibleRates([R("fused at T1024", 190)], [R("torch", 20)], sgemmGflops: 62, fmaPeakGflops: null);
        Assert.Single(reasons);
        Assert.Contains("sgemm ceiling", reasons[0], StringComparison.Ordinal);
        Assert.Contains("306 %", reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_above_the_fma_peak_is_impossible()
    {
        var reasons = BenchmarkTrust.ImpossibleRates([R("fused", 400)], [], sgemmGflops: null, fmaPeakGflops: 380);
        Assert.Contains(reasons, r => r.Contains("FMA peak", StringComparison.Ordinal));
    }

    [Fact]
    public void A_peer_sgemm_below_the_floor_is_not_a_fair_peer()
    {
        // 20 % of 380 = 76: 70 is below, 80 is not.
        Assert.Contains(BenchmarkTrust.ImpossibleRates([R("fused", 60)], [], sgemmGflops: 70, fmaPeakGflops: 380), r => r.Contains("below 20 %", StringComparison.Ordinal));
        Assert.Empty(BenchmarkTrust.ImpossibleRates([R("fused", 60)], [], sgemmGflops: 80, fmaPeakGflops: 380));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_rate_that_is_not_positive_and_finite_is_impossible(double bad)
    {
        Assert.NotEmpty(BenchmarkTrust.ImpossibleRates([R("fused", bad)], [], 250, 380));
        Assert.NotEmpty(BenchmarkTrust.ImpossibleRates([R("fused", 100)], [R("torch", bad)], 250, 380));
        Assert.NotEmpty(BenchmarkTrust.ImpossibleRates([R("fused", 100)], [], bad, 380));
        Assert.NotEmpty(BenchmarkTrust.ImpossibleRates([R("fused", 100)], [], 250, bad));
    }

    [Fact]
    public void The_page_goes_to_docs_only_when_asked_and_never_for_an_invalid_run()
    {
        string root = Path.Combine(Path.GetTempPath(), "repo");
        string docs = Path.Combine(root, "docs"), artifacts = Path.Combine(root, "artifacts", "benchmarks");
        Assert.Equal((artifacts, (string?)null), BenchmarkTrust.OutputDirectory(root, null, writeDocs: false, valid: true));
        Assert.Equal((docs, (string?)null), BenchmarkTrust.OutputDirectory(root, null, writeDocs: true, valid: true));
        var (dir, refused) = BenchmarkTrust.OutputDirectory(root, null, writeDocs: true, valid: false);
        Assert.Equal(artifacts, dir);
        Assert.NotNull(refused);
        // --out pointing at docs/ is refused the same way; any other folder is the user's.
        Assert.Equal(artifacts, BenchmarkTrust.OutputDirectory(root, docs + Path.DirectorySeparatorChar, writeDocs: false, valid: false).Directory);
        string elsewhere = Path.Combine(Path.GetTempPath(), "elsewhere");
        Assert.Equal((elsewhere, (string?)null), BenchmarkTrust.OutputDirectory(root, elsewhere, writeDocs: false, valid: false));
    }
}

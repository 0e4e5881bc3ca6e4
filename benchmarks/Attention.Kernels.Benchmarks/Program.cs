using System.CommandLine;
using Attention.Kernels.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// BenchmarkDotNet suite:
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- --filter '*'
// Default: a short in-process run (1 launch, 3 warm-up and 3 measured iterations), a few minutes on 2 cores.
// --full: BenchmarkDotNet's default job (separate process, statistically driven iteration counts).
// Every other argument goes to BenchmarkDotNet's own command line (--filter, --list, --exporters, ...).
var full = new Option<bool>("--full") { Description = "BenchmarkDotNet's default job (separate process, statistically driven iteration counts) instead of the short in-process run" };
var root = new RootCommand("Attention.Kernels benchmarks. Without a command: the BenchmarkDotNet suite; arguments other than --full go to BenchmarkDotNet (e.g. --filter '*', --list flat).")
{
    full,
};
root.TreatUnmatchedTokensAsErrors = false;
root.SetAction(parse => RunSuite(parse.GetValue(full), [.. parse.UnmatchedTokens]));

// Side by side with LibTorch 2.10 (same process), interleaved in rounds, ceilings and goals included; writes
// artifacts/benchmarks/performance.md and its charts (docs/ with --write-docs, never for an invalid run, which exits with 2):
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- compare --write-docs
var noPeers = new Option<bool>("--no-peers") { Description = "ours only: no LibTorch, no Python peer, no ceilings from them" };
var noPython = new Option<bool>("--no-python") { Description = "skip the Python peer (torch 1.13 + OpenBLAS: the second sgemm ceiling and the bandwidth figures)" };
var noLimits = new Option<bool>("--no-limits") { Description = "skip the limits probe" };
var noTier0 = new Option<bool>("--no-tier0") { Description = "skip the fresh-process tier-0 probe (DOTNET_PROCESSOR_COUNT=1)" };
var rounds = new Option<int>("--rounds") { Description = "interleaved rounds per row", DefaultValueFactory = _ => 5 };
var only = new Option<string?>("--only") { Description = "only the rows whose label contains this text, e.g. \"T1024\" or \"bf16\"", HelpName = "text" };
var outDir = new Option<string?>("--out") { Description = "where performance.md and the charts go (default: artifacts/benchmarks/; an invalid run never writes docs/)", HelpName = "dir" };
var writeDocs = new Option<bool>("--write-docs") { Description = "rewrite the tracked docs/performance.md and docs/images/performance-*.png|svg (refused for an invalid run)" };
var python = new Option<string>("--python")
{
    Description = "the Python with torch that runs the ceilings peer",
    HelpName = "path",
    DefaultValueFactory = _ => "/usr/bin/python3", // Debian's torch; the pyenv python3 on PATH lacks it
};
var compare = new Command("compare", "Ours vs LibTorch 2.10 SDPA and the naive composition, interleaved in one process on the standard shapes (fp32, and fp16/bf16 vs torch bf16), with this machine's sgemm, bandwidth and FMA ceilings and the goals evaluated; writes the page to artifacts/benchmarks/ (docs/ with --write-docs); exit code 2 for an invalid run")
{
    noPeers, noPython, noLimits, noTier0, rounds, only, outDir, python, writeDocs,
};
compare.SetAction(parse => Compare.Run(new CompareOptions(
    NoPeers: parse.GetValue(noPeers), NoLimits: parse.GetValue(noLimits), Only: parse.GetValue(only),
    OutDirectory: parse.GetValue(outDir), Python: parse.GetValue(python)!, WriteDocs: parse.GetValue(writeDocs),
    Rounds: Math.Max(1, parse.GetValue(rounds)), NoPython: parse.GetValue(noPython), NoTier0: parse.GetValue(noTier0))));
root.Add(compare);

// Where the fused CPU kernel's time goes, phase by phase, against the FMA peak:
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- limits
var limits = new Command("limits", "Where the fused CPU kernel's time goes, phase by phase, against the FMA peak");
limits.SetAction(_ => Limits.Run());
root.Add(limits);

// The first seconds of a fresh process (tiered compilation), one B1 H8 T512 D64 kernel launched back to back:
//   DOTNET_PROCESSOR_COUNT=1 dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- warmup
var warmupSeconds = new Option<double>("--seconds") { Description = "how long to launch (the steady state is the last second)", DefaultValueFactory = _ => 4.0 };
var warmup = new Command("warmup", "First launch, first-second median and steady-state median of one kernel in a fresh process")
{
    warmupSeconds, only,
};
warmup.SetAction(parse => Warmup.Run(parse.GetValue(warmupSeconds), parse.GetValue(only)));
root.Add(warmup);

// all-MiniLM-L6-v2's whole forward pass against ONNX Runtime 1.31.1 in this process (2 threads each, interleaved rounds,
// medians), with a per-op breakdown; writes artifacts/benchmarks/performance-minilm.md (docs/ with --write-docs):
//   flock -x /work/cpu.lock dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- minilm --write-docs
var minilmRounds = new Option<int>("--rounds") { Description = "interleaved rounds per shape (medians)", DefaultValueFactory = _ => 7 };
var minilm = new Command("minilm", "all-MiniLM-L6-v2 forward vs ONNX Runtime at 8x128 and 32x256, per-op breakdown and extra memory; writes performance-minilm.md (docs/ with --write-docs)")
{
    minilmRounds, only, writeDocs,
};
minilm.SetAction(parse => MiniLmBench.Run(parse.GetValue(minilmRounds), parse.GetValue(writeDocs), parse.GetValue(only)));
root.Add(minilm);

// The issue-14 goal rows (mods, masks, varlen, key padding), each pair interleaved in one process, as ratios:
//   flock -x /work/cpu.lock dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- masks [--rows document]
var repetitions = new Option<int>("--repetitions") { Description = "interleaved launches per kernel and row (medians)", DefaultValueFactory = _ => 7 };
var rows = new Option<string?>("--rows") { Description = "run only the rows whose name contains this text (case-insensitive), e.g. \"document\"" };
var masks = new Command("masks", "The issue-14 goal rows: ALiBi, soft-capping, a causal MaskMod, document masks (MaskMod and built-in), varlen and key padding against their plain kernels, as ratios")
{
    repetitions, rows,
};
masks.SetAction(parse => MaskBenchmarks.Run(parse.GetValue(repetitions), parse.GetValue(rows)));
root.Add(masks);

// Whether LibTorch loads in this process (and why not), and one small SDPA checked against the fused kernel:
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- torch-check
var torchCheck = new Command("torch-check", "Load LibTorch 2.10 (TorchSharp) in this process, say why if it cannot, check one SDPA against the fused kernel, and our masks' semantics (is_causal, attn_mask, key padding, ALiBi) against its SDPA");
torchCheck.SetAction(_ => Compare.TorchCheck());
root.Add(torchCheck);

return root.Parse(args).Invoke();

static int RunSuite(bool full, string[] benchmarkDotNetArgs)
{
    IConfig config = full
        ? DefaultConfig.Instance
        : DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortRun"));
    // Shape labels are ~35 characters; BenchmarkDotNet truncates parameter values to 20 by default.
    config = config.AddColumn(CostColumn.Gflops, CostColumn.Gbps)
        .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
    BenchmarkSwitcher.FromAssembly(typeof(AttentionBenchmarks).Assembly).Run(benchmarkDotNetArgs, config);
    return 0;
}

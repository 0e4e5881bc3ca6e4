using Attention.Kernels.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Side by side with PyTorch, ceilings included, writes docs/performance.md and docs/performance.svg:
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- compare
if (args.Length > 0 && args[0] == "compare")
    return Compare.Run(args[1..]);

// Where the fused CPU kernel's time goes, phase by phase, against the FMA peak:
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- limits
if (args.Length > 0 && args[0] == "limits")
    return Limits.Run(args[1..]);

// BenchmarkDotNet suite:
//   dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- --filter '*'
// Default: a short in-process run (1 launch, 3 warm-up and 3 measured iterations), a few minutes on 2 cores.
// --full: BenchmarkDotNet's default job (separate process, statistically driven iteration counts).
bool full = args.Contains("--full");
IConfig config = full
    ? DefaultConfig.Instance
    : DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortRun"));
// Shape labels are ~35 characters; BenchmarkDotNet truncates parameter values to 20 by default.
config = config.AddColumn(CostColumn.Gflops, CostColumn.Gbps)
    .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(AttentionBenchmarks).Assembly).Run(args.Where(a => a != "--full").ToArray(), config);
return 0;

using Attention.Kernels.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Attention.Kernels.Benchmarks -- --filter '*'
var config = DefaultConfig.Instance.AddColumn(CostColumn.Gflops, CostColumn.Gbps);
BenchmarkSwitcher.FromAssembly(typeof(AttentionBenchmarks).Assembly).Run(args, config);

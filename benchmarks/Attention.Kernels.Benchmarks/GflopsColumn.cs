using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Attention.Kernels.Benchmarks;

/// <summary>A column computed from the generated cost model and the measured mean time: GFLOP/s or GB/s.</summary>
public sealed class CostColumn(string name, Func<KernelCost, double, double> rate) : IColumn
{
    public static readonly CostColumn Gflops = new("GFLOP/s", (cost, seconds) => cost.GflopsPerSecond(seconds));
    public static readonly CostColumn Gbps = new("GB/s", (cost, seconds) => cost.GigabytesPerSecond(seconds));

    public string Id => nameof(CostColumn) + ColumnName;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"{name} from the generated cost model and the mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null || benchmarkCase.Descriptor.WorkloadMethod.DeclaringType is not { } type)
            return "-";
        if (Activator.CreateInstance(type) is not ICostedBenchmark costed)
            return "-";
        foreach (var parameter in benchmarkCase.Parameters.Items)
            type.GetProperty(parameter.Name)?.SetValue(costed, parameter.Value);
        return rate(costed.Cost(), report.ResultStatistics.Mean / 1e9).ToString("F1");
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}

/// <summary>A benchmark that can state the cost of one invocation for its current parameters.</summary>
public interface ICostedBenchmark
{
    KernelCost Cost();
}

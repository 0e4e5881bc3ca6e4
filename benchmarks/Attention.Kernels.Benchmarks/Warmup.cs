using System.Diagnostics;
using Attention.Kernels.Cpu;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// The first seconds of a fresh process: launches one kernel back to back and times every launch, so the cost of
/// tiered compilation (tier-0 code, OSR, the background tier-1 compile competing with the workers) shows against
/// the steady state. Run it under DOTNET_PROCESSOR_COUNT=1 to see what a 1-CPU container sees.
/// </summary>
public static class Warmup
{
    public static int Run(double seconds, string? only)
    {
        var shape = only is null ? new AttentionShape(1, 8, 512, 512, 64, Causal: false)
            : AttentionShape.Standard.First(s => s.ToString().Contains(only, StringComparison.Ordinal));
        using var work = new Workload(shape, Device.Cpu);
        var times = new List<(double At, double Ms)>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            long start = Stopwatch.GetTimestamp();
            work.Run(Method.Fused);
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            times.Add((clock.Elapsed.TotalSeconds, ms));
        }
        double first = times[0].Ms;
        double firstSecond = Median(times.Where(t => t.At <= 1.0).Select(t => t.Ms));
        double steady = Median(times.Where(t => t.At > seconds - 1.0).Select(t => t.Ms));
        Console.WriteLine($"warmup {shape}: {Environment.ProcessorCount} logical CPUs, {CpuParallel.WorkerCount} workers, load average {Compare.LoadAverage()}");
        Console.WriteLine($"launches {times.Count}; first {first:F2} ms; first-second median {firstSecond:F2} ms ({times.Count(t => t.At <= 1.0)} launches); " +
                          $"steady median (last second) {steady:F2} ms; steady/first-second {steady / firstSecond:P0}");
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

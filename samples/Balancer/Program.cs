using System.CommandLine;
using System.Diagnostics;
using Attention.Kernels;
using Attention.Kernels.Memory;
using Attention.Kernels.Scheduling;
using Spectre.Console;

namespace BalancerSample;

/// <summary>
/// Three attention workloads of different importance share the CPU through the balancer. A live table shows each
/// task's α, achieved share of device time, queue delay and throughput; the summary compares the achieved shares with
/// α over the measurement window and exits non-zero if any is more than 5 points off.
/// Usage: <c>dotnet run -c Release --project samples/Balancer [-- --seconds 10]</c>.
/// </summary>
public static class Program
{
    private const double Bound = 0.05;

    public static Task<int> Main(string[] args)
    {
        var secondsOption = new Option<double>("--seconds")
        {
            Description = "length of the measurement window, after 1.5 s of warm-up",
            DefaultValueFactory = _ => 10,
        };
        var root = new RootCommand("Three attention workloads of different importance share the CPU through the balancer; " +
                                   "exits non-zero if an achieved share is more than 5 points from its α.") { secondsOption };
        root.SetAction((parse, _) => Run(parse.GetValue(secondsOption)));
        return root.Parse(args).InvokeAsync();
    }

    private static async Task<int> Run(double seconds)
    {
        if (Console.IsOutputRedirected)
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 150); // logs: keep the table on one line per task
        var device = Device.Cpu;
        using var balancer = Balancer.ForDevice(device);
        using var stop = new CancellationTokenSource();
        var random = new Random(1);
        Workload[] workloads =
        [
            new("chat", 0.5, Kernels.ChatKernel.Launch, Kernels.ChatKernel.Cost, Kernels.ChatKernel.Heads, Kernels.ChatKernel.KvHeads, Kernels.ChatKernel.HeadDim, 160, random),
            new("summarize", 0.3, Kernels.SummarizeKernel.Launch, Kernels.SummarizeKernel.Cost, Kernels.SummarizeKernel.Heads, Kernels.SummarizeKernel.KvHeads, Kernels.SummarizeKernel.HeadDim, 256, random),
            new("index", 0.2, Kernels.IndexKernel.Launch, Kernels.IndexKernel.Cost, Kernels.IndexKernel.Heads, Kernels.IndexKernel.KvHeads, Kernels.IndexKernel.HeadDim, 512, random),
        ];
        AnsiConsole.MarkupLine($"[bold]Balancer sample[/] on {Markup.Escape(device.ToString())}: {workloads.Length} workloads, weights " +
                               string.Join(" / ", workloads.Select(w => $"{w.Name} {w.Weight}")));
        foreach (var w in workloads)
            AnsiConsole.WriteLine($"  {w.Name}: {w.Describe()}");

        var loops = workloads.SelectMany(w => w.Start(balancer, depth: 3, stop.Token)).ToArray();

        // Warm up (JIT, FLOP-rate calibration), then measure over a window.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var start = balancer.Snapshot();
        var clock = Stopwatch.StartNew();
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Live(BuildTable(start, balancer.Snapshot(), 0)).StartAsync(async ctx =>
            {
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    await Task.Delay(250);
                    ctx.UpdateTarget(BuildTable(start, balancer.Snapshot(), clock.Elapsed.TotalSeconds));
                }
            });
        }
        else
        {
            for (int tick = 1; clock.Elapsed.TotalSeconds < seconds; tick++)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, Math.Max(0.05, seconds - clock.Elapsed.TotalSeconds))));
                var now = balancer.Snapshot();
                Console.WriteLine($"t={clock.Elapsed.TotalSeconds,5:0.0}s  " + string.Join("  ", Window(start, now).Select(r =>
                    $"{r.Task.Name}: α {r.Task.Alpha:P0} share {r.Share:P1} p50 {Ms(r.Task.QueueDelayP50)} {r.Launches / Math.Max(1e-9, r.Seconds):0} launch/s")));
            }
        }
        var end = balancer.Snapshot();
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        AnsiConsole.Write(BuildTable(start, end, clock.Elapsed.TotalSeconds, summary: true));
        var rows = Window(start, end);
        bool ok = rows.All(r => Math.Abs(r.Share - r.Task.Alpha) <= Bound);
        foreach (var r in rows)
            Console.WriteLine($"{r.Task.Name,-10} alpha {r.Task.Alpha:0.000}  achieved {r.Share:0.000}  diff {Signed((r.Share - r.Task.Alpha) * 100),6} points  " +
                              $"{(Math.Abs(r.Share - r.Task.Alpha) <= Bound ? "ok" : "OUT OF BOUNDS")}");
        var pool = device.Pool.Statistics;
        Console.WriteLine($"pool: {MemoryPool.FormatBytes(pool.InUseBytes)} in use, peak {MemoryPool.FormatBytes(pool.PeakBytes)}, " +
                          $"{pool.Hits}/{pool.RentCount} rents from cache, {MemoryPool.FormatBytes(pool.ReservedBytes)} reserved");
        Console.WriteLine(ok
            ? $"PASS: every achieved share is within ±{Bound * 100:0} points of α over {clock.Elapsed.TotalSeconds:0.0} s."
            : $"FAIL: an achieved share is more than {Bound * 100:0} points from α.");
        foreach (var w in workloads)
            w.Dispose();
        return ok ? 0 : 1;
    }

    private sealed record Row(TaskSnapshot Task, double Share, long Launches, double Seconds, double Gflops);

    /// <summary>Shares and rates over the window between two snapshots.</summary>
    private static List<Row> Window(BalancerSnapshot from, BalancerSnapshot to)
    {
        double seconds = Math.Max(1e-9, (to.Time - from.Time).TotalSeconds);
        var deltas = to.Tasks.Select(t =>
        {
            var before = from.Tasks.FirstOrDefault(b => b.Id == t.Id);
            return (Task: t, Service: t.ServiceSeconds - (before?.ServiceSeconds ?? 0), Launches: t.Completed - (before?.Completed ?? 0),
                    Gflops: (t.Flops - (before?.Flops ?? 0)) / 1e9);
        }).ToList();
        double total = Math.Max(1e-12, deltas.Sum(d => d.Service));
        return [.. deltas.Select(d => new Row(d.Task, d.Service / total, d.Launches, seconds, d.Gflops / seconds))];
    }

    private static Table BuildTable(BalancerSnapshot from, BalancerSnapshot to, double elapsed, bool summary = false)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title(summary ? $"[bold]Summary[/] ({elapsed:0.0} s window)" : $"[bold]Live[/] {elapsed:0.0} s")
            .AddColumns("task", "w", "α", "achieved share", "Δ points", "queue p50", "queue p99", "launches/s", "GFLOP/s", "queued", "c'ᵢ");
        foreach (var r in Window(from, to))
        {
            double diff = (r.Share - r.Task.Alpha) * 100;
            string color = Math.Abs(diff) <= Bound * 100 ? "green" : "red";
            table.AddRow(r.Task.Name, $"{r.Task.Weight:0.00}", $"{r.Task.Alpha:P1}", $"[{color}]{r.Share:P1}[/]", $"[{color}]{Signed(diff)}[/]",
                Ms(r.Task.QueueDelayP50), Ms(r.Task.QueueDelayP99), $"{r.Launches / r.Seconds:0.0}", $"{r.Gflops:0.00}",
                r.Task.Queued.ToString(), MemoryPool.FormatBytes(r.Task.UseBytes));
        }
        table.Caption($"C = {MemoryPool.FormatBytes(to.Capacity)}, C_avail = {MemoryPool.FormatBytes(to.Available)}, C_remain = {MemoryPool.FormatBytes(to.Remaining)}, " +
                      $"measured {to.FlopsPerSecond / 1e9:0.0} GFLOP/s");
        return table;
    }

    private static string Signed(double points) =>
        Math.Round(points, 1).ToString("+0.0;-0.0;0.0", System.Globalization.CultureInfo.InvariantCulture);

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0.0} ms";
}

/// <summary>One workload: fixed inputs, a few outputs, and loops that keep <c>depth</c> launches outstanding.</summary>
internal sealed class Workload(
    string name, double weight,
    Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> launch,
    Func<int, int, int, KernelCost> cost, int heads, int kvHeads, int headDim, int length, Random random) : IDisposable
{
    private readonly List<Tensor<float>> _tensors = [];

    public string Name { get; } = name;
    public double Weight { get; } = weight;

    public string Describe()
    {
        var c = cost(1, length, length);
        return $"[B=1, T={length}, H={heads}, KvH={kvHeads}, D={headDim}], {c.Flops / 1e6:0} MFLOP per launch";
    }

    public IEnumerable<Task> Start(Balancer balancer, int depth, CancellationToken stop)
    {
        var task = balancer.Register(Name, Importance.FromWeight(Weight));
        var device = Device.Cpu;
        Tensor<float> Random(int h) =>
            Track(Tensor.FromArray<float>(device, Enumerable.Range(0, length * h * headDim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), 1, length, h, headDim));
        var q = Random(heads);
        var k = Random(kvHeads);
        var v = Random(kvHeads);
        var kernelCost = cost(1, length, length);
        for (int i = 0; i < depth; i++)
        {
            var output = Track(Tensor.Create<float>(device, 1, length, heads, headDim));
            // The output is rented once up front; what a launch needs on top while it runs is its scratch.
            var request = new LaunchRequest(_ => launch(q, k, v, output), kernelCost) { MemoryBytes = kernelCost.ScratchBytes };
            yield return Loop(task, request, stop);
        }
    }

    private static async Task Loop(BalancedTask task, LaunchRequest request, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
                await task.SubmitAsync(request, stop);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private Tensor<float> Track(Tensor<float> tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }

    public void Dispose() => _tensors.ForEach(t => t.Dispose());
}

using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// The <c>compare</c> page's charts (ScottPlot, each as PNG and SVG): the ratio to LibTorch SDPA per row, GFLOP/s per
/// row with the sgemm ceiling, decode times with each row's bandwidth floor, and the <c>limits</c> split of one key block
/// as a stacked bar. Error bars span the rounds (min to max); the bar is the median.
/// </summary>
internal static class CompareCharts
{
    /// <summary>A chart written next to the page: its PNG file name (the SVG has the same stem) and title.</summary>
    public sealed record Chart(string File, string Title);

    private static readonly Color OursColor = Color.FromHex("#1f77b4"), TorchColor = Color.FromHex("#ff7f0e"), NaiveColor = Color.FromHex("#ffbb78"),
        UnfusedColor = Color.FromHex("#aec7e8"), CeilingColor = Color.FromHex("#d62728"), GoalColor = Color.FromHex("#2ca02c");

    public static List<Chart> Write(CompareRun run, string directory)
    {
        var charts = new List<Chart>();
        void Save(Plot plot, string stem, string title, int width, int height)
        {
            plot.SavePng(Path.Combine(directory, stem + ".png"), width, height);
            plot.SaveSvg(Path.Combine(directory, stem + ".svg"), width, height);
            charts.Add(new Chart(stem + ".png", title));
        }

        var vsTorch = run.Rows.Where(r => r.VsTorch is not null).ToList();
        if (vsTorch.Count > 0)
        {
            var (plot, height) = VsTorch(vsTorch);
            Save(plot, "performance-vs-libtorch", "LibTorch SDPA time / ours per row", 1000, height);
        }
        var prefill = run.Rows.Where(r => r.Shape.Kind != "decode").ToList();
        if (prefill.Count > 0)
        {
            var (plot, height) = Gflops(prefill, run.Ceilings.Sgemm, run.Threads);
            Save(plot, "performance-gflops", "GFLOP/s per row with the sgemm ceiling", 1100, height);
        }
        var decode = run.Rows.Where(r => r.Methods.ContainsKey(Compare.ReadFloor)).ToList();
        if (decode.Count > 0)
            Save(Decode(decode), "performance-decode", "Decode time per row with the bandwidth floor", Math.Max(1000, 300 + 130 * decode.Count), 400);
        if (run.Limits is { } limits)
            Save(Limits(limits), "performance-limits", "Where one key block's time goes (limits probe)", 1100, 300);
        return charts;
    }

    /// <summary>Horizontal bars, one per row from the top, each the median of the paired per-round ratios with min–max error bars.</summary>
    private static (Plot, int) VsTorch(List<Row> rows)
    {
        var plot = new Plot();
        var bars = rows.Select((r, i) =>
        {
            var s = r.VsTorch!;
            return new Bar
            {
                Position = -i, Value = s.Median,
                FillColor = r.Storage == Storage.Fp32 ? OursColor : UnfusedColor, Label = s.Median.ToString("F2", CultureInfo.InvariantCulture) + "×",
            };
        }).ToList();
        var plotted = plot.Add.Bars(bars);
        plotted.Horizontal = true;
        plotted.ValueLabelStyle.FontSize = 12;
        Whiskers(plot, bars.Select(b => b.Position), rows.Select(r => r.VsTorch!.Min), rows.Select(r => r.VsTorch!.Max), horizontal: true);
        RowLabels(plot, rows.Select(r => r.Label));
        Line(plot, 1.0, Colors.Gray, LinePattern.Dotted, "same speed");
        Line(plot, CompareReport.VsTorchGoal, GoalColor, LinePattern.Dashed, $"goal {CompareReport.VsTorchGoal:F1}×");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "fp32", FillColor = OursColor });
        if (rows.Any(r => r.Storage != Storage.Fp32))
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "bf16 (vs torch bf16)", FillColor = UnfusedColor });
        plot.ShowLegend(Edge.Right);
        plot.Title("LibTorch 2.10 SDPA time / ours");
        plot.XLabel("ratio, higher is better; bar: median of paired rounds, whiskers: min–max");
        plot.Axes.SetLimitsX(0, Math.Max(CompareReport.VsTorchGoal, rows.Max(r => r.VsTorch!.Max)) * 1.15);
        return (plot, 140 + 34 * rows.Count);
    }

    /// <summary>Grouped horizontal bars of GFLOP/s (ours, LibTorch SDPA, LibTorch naive, ours unfused) with the sgemm ceiling as a line.</summary>
    private static (Plot, int) Gflops(List<Row> rows, double? sgemm, int threads)
    {
        var plot = new Plot();
        var series = new (string Name, Color Color)[] { (Compare.Ours, OursColor), (Compare.TorchSdpa, TorchColor), (Compare.TorchNaive, NaiveColor), (Compare.Unfused, UnfusedColor) };
        const double groupWidth = 0.8;
        double barWidth = groupWidth / series.Length;
        var bars = new List<Bar>();
        var lows = new List<double>();
        var highs = new List<double>();
        double max = sgemm ?? 0;
        for (int i = 0; i < rows.Count; i++)
            for (int m = 0; m < series.Length; m++)
            {
                if (!rows[i].Methods.TryGetValue(series[m].Name, out var s))
                    continue;
                // Rates are inverse times: the fastest round gives the highest rate.
                double median = rows[i].Gflops(s.Median), high = rows[i].Gflops(s.Min), low = rows[i].Gflops(s.Max);
                max = Math.Max(max, high);
                lows.Add(low);
                highs.Add(high);
                bars.Add(new Bar
                {
                    Position = -i + groupWidth / 2 - (m + 0.5) * barWidth, Size = barWidth * 0.95, Value = median,
                    FillColor = series[m].Color,
                });
            }
        var plotted = plot.Add.Bars(bars);
        plotted.Horizontal = true;
        Whiskers(plot, bars.Select(b => b.Position), lows, highs, horizontal: true);
        RowLabels(plot, rows.Select(r => r.Label));
        foreach (var (name, color) in series.Where(s => rows.Any(r => r.Methods.ContainsKey(s.Name))))
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = color });
        if (sgemm is { } c)
        {
            Line(plot, c, CeilingColor, LinePattern.Dashed, string.Create(CultureInfo.InvariantCulture, $"same-run sgemm {c:F0}"));
            Line(plot, CompareReport.SelfOfSgemmGoal * c, GoalColor, LinePattern.Dotted, $"goal: {CompareReport.SelfOfSgemmGoal:P0} of sgemm");
        }
        plot.ShowLegend(Edge.Right);
        plot.Title($"GFLOP/s per row, {threads} threads (higher is better)");
        plot.XLabel("GFLOP/s = 4·D per visible pair / time; whiskers: min–max of rounds");
        plot.Axes.SetLimitsX(0, max * 1.1);
        return (plot, 160 + 44 * rows.Count);
    }

    /// <summary>Vertical bars of decode time (ours, LibTorch SDPA) per row, with that row's K/V read floor as a short line.</summary>
    private static Plot Decode(List<Row> rows)
    {
        var plot = new Plot();
        var series = new (string Name, Color Color)[] { (Compare.Ours, OursColor), (Compare.TorchSdpa, TorchColor) };
        var bars = new List<Bar>();
        var lows = new List<double>();
        var highs = new List<double>();
        for (int i = 0; i < rows.Count; i++)
        {
            for (int m = 0; m < series.Length; m++)
            {
                if (!rows[i].Methods.TryGetValue(series[m].Name, out var s))
                    continue;
                bars.Add(new Bar
                {
                    Position = i + (m - 0.5) * 0.38, Size = 0.36, Value = s.Median * 1e3, FillColor = series[m].Color,
                    Label = (s.Median * 1e3).ToString("F1", CultureInfo.InvariantCulture),
                });
                lows.Add(s.Min * 1e3);
                highs.Add(s.Max * 1e3);
            }
            double floor = rows[i].Methods[Compare.ReadFloor].Median * 1e3;
            var line = plot.Add.Line(i - 0.45, floor, i + 0.45, floor);
            line.LineColor = CeilingColor;
            line.LineWidth = 2;
            line.LinePattern = LinePattern.Dashed;
        }
        plot.Add.Bars(bars);
        Whiskers(plot, bars.Select(b => b.Position), lows, highs, horizontal: false);
        var ticks = new NumericManual();
        bool oneShape = rows.All(r => r.Shape == rows[0].Shape);
        for (int i = 0; i < rows.Count; i++)
        {
            var shape = rows[i].Shape;
            string kvHeads = shape.KvHeads != shape.Heads ? $" KvH{shape.KvHeads}" : "";
            ticks.AddMajor(i, (oneShape ? "" : $"B{shape.Batch}{kvHeads}\nTk{shape.KeyLength}\n") + rows[i].Storage.ToString().ToLowerInvariant());
        }
        plot.Axes.Bottom.TickGenerator = ticks;
        foreach (var (name, color) in series)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = color });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "bandwidth floor (its K/V read once)", LineColor = CeilingColor, LinePattern = LinePattern.Dashed, LineWidth = 2 });
        plot.ShowLegend(Edge.Right);
        plot.Title(oneShape ? $"Decode {rows[0].Shape}" : $"Decode H{rows[0].Shape.Heads} Tq1 D{rows[0].Shape.HeadDim}, K/V cache of Tk keys per sequence");
        plot.YLabel("ms per step, lower is better");
        plot.Axes.SetLimitsY(0, highs.Max() * 1.2); // the plotted bars only: the unfused baselines would flatten them
        return plot;
    }

    /// <summary>One stacked bar: a key block's time on one core split by the limits probe, against the time at the FMA peak.</summary>
    private static Plot Limits(Limits.Result l)
    {
        var plot = new Plot();
        double phases = l.Scores + l.Softmax + l.Values;
        var parts = new (string Name, double Seconds, Color Color)[]
        {
            ("Q·Kᵀ", l.Scores, OursColor), ("online softmax", l.Softmax, TorchColor), ("P·V", l.Values, UnfusedColor),
            ("phases evict each other (L1)", Math.Max(0, l.Interleaved - phases), NaiveColor),
            ("new K/V from L2", Math.Max(0, l.Streamed - Math.Max(l.Interleaved, phases)), Color.FromHex("#9467bd")),
        };
        double at = 0;
        var bars = new List<Bar>();
        foreach (var (name, seconds, color) in parts)
        {
            bars.Add(new Bar { Position = 1, ValueBase = at, Value = at + seconds * 1e6, FillColor = color, Size = 0.6 });
            at += seconds * 1e6;
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = string.Create(CultureInfo.InvariantCulture, $"{name} {seconds * 1e6:F2} µs"), FillColor = color });
        }
        double ideal = 2 * l.BlockFlops / (l.FmaPeakOneThread * 1e9) * 1e6;
        bars.Add(new Bar { Position = 0, ValueBase = 0, Value = ideal, FillColor = Colors.Gray, Size = 0.6 });
        var plotted = plot.Add.Bars(bars);
        plotted.Horizontal = true;
        var ticks = new NumericManual();
        ticks.AddMajor(1, "measured, 1 core");
        ticks.AddMajor(0, "at the FMA peak");
        plot.Axes.Left.TickGenerator = ticks;
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = string.Create(CultureInfo.InvariantCulture, $"2 GEMMs at {l.FmaPeakOneThread:F0} GFLOP/s: {ideal:F2} µs"), FillColor = Colors.Gray });
        plot.ShowLegend(Edge.Right);
        plot.Title("One key block, one core: where the time goes");
        plot.XLabel("µs (stacked)");
        plot.Axes.SetLimitsX(0, Math.Max(at, 2 * l.BlockFlops / (l.FmaPeakOneThread * 1e9) * 1e6) * 1.1);
        plot.Axes.SetLimitsY(-0.6, 1.6);
        return plot;
    }

    /// <summary>A vertical reference line, named in the legend (a label on the axis would cover the tick labels).</summary>
    private static void Line(Plot plot, double x, Color color, LinePattern pattern, string name)
    {
        plot.Add.VerticalLine(x, 2, color, pattern);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, LineColor = color, LinePattern = pattern, LineWidth = 2 });
    }

    /// <summary>Min–max whiskers of the rounds around each bar's median (ScottPlot's bars take only symmetric errors).</summary>
    private static void Whiskers(Plot plot, IEnumerable<double> positions, IEnumerable<double> lows, IEnumerable<double> highs, bool horizontal)
    {
        var at = positions.ToList();
        var low = lows.ToList();
        var high = highs.ToList();
        var mid = low.Zip(high, (a, b) => (a + b) / 2).ToList();
        var down = mid.Zip(low, (m, a) => m - a).ToList();
        var up = high.Zip(mid, (b, m) => b - m).ToList();
        var whiskers = horizontal ? plot.Add.ErrorBar(mid, at, new double[at.Count]) : plot.Add.ErrorBar(at, mid, new double[at.Count]);
        if (horizontal)
        {
            whiskers.XErrorNegative = down;
            whiskers.XErrorPositive = up;
            whiskers.YErrorNegative = null;
            whiskers.YErrorPositive = null;
        }
        else
        {
            whiskers.YErrorNegative = down;
            whiskers.YErrorPositive = up;
        }
        whiskers.Color = Colors.Black;
    }

    private static void RowLabels(Plot plot, IEnumerable<string> labels)
    {
        var ticks = new NumericManual();
        int i = 0;
        foreach (string label in labels)
            ticks.AddMajor(-i++, label);
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.MajorTickStyle.Length = 0;
    }
}

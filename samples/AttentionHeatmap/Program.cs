using System.CommandLine;
using Attention.Kernels;
using ScottPlot;

namespace AttentionHeatmap;

/// <summary>
/// Runs a document-masked causal kernel on the default device with its log-sum-exp, recomputes one head's attention
/// weights with <see cref="AttentionWeights.Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, ModTensorArgs)"/>, and draws them and the 64×64 block mask as PNG pictures.
/// </summary>
public static class Program
{
    private const int HeadDim = 64, Heads = 4, Block = 64, Head = 0;

    public static Task<int> Main(string[] args)
    {
        var outputOption = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "folder to write the PNG pictures to (created if missing)",
            DefaultValueFactory = _ => new DirectoryInfo(Directory.GetCurrentDirectory()),
        };
        var root = new RootCommand("Draws the attention weights of one head of a document-masked causal kernel and its block mask as PNG heatmaps.")
        {
            outputOption,
        };
        root.SetAction(parse => Run(parse.GetValue(outputOption)!));
        return root.Parse(args).InvokeAsync();
    }

    private static int Run(DirectoryInfo output)
    {
        output.Create();
        var device = Device.Default;
        const int T = Kernels.Length;
        Console.WriteLine($"Device: {device}");
        Console.WriteLine($"Kernel: DocumentCausal, B=1 T={T} H={Heads} D={HeadDim}, documents at 0, {Kernels.Start1}, {Kernels.Start2}, {Kernels.Start3}");

        var (q, k) = Inputs(T);
        using var qt = Tensor.FromArray<float>(device, q, 1, T, Heads, HeadDim);
        using var kt = Tensor.FromArray<float>(device, k, 1, T, Heads, HeadDim);
        using var vt = Tensor.FromArray<float>(device, k, 1, T, Heads, HeadDim);
        using var ot = Tensor.Create<float>(device, 1, T, Heads, HeadDim);
        using var lse = Tensor.Create<float>(device, 1, Heads, T);
        Kernels.DocumentCausal(qt, kt, vt, ot, lse);
        device.Synchronize();

        float[,] weights = AttentionWeights.Slice<Kernels.DocumentCausalKernel>(qt, kt, lse, batch: 0, head: Head);
        double worstRow = 0;
        for (int i = 0; i < T; i++)
        {
            double sum = 0;
            for (int j = 0; j < T; j++)
                sum += weights[i, j];
            worstRow = Math.Max(worstRow, Math.Abs(sum - 1));
        }
        Console.WriteLine($"Weights of head {Head}: [{T}, {T}], max |row sum − 1| = {worstRow:E1}");

        string weightsPath = Path.Combine(output.FullName, "attention-weights.png");
        DrawWeights(weights, weightsPath);
        Console.WriteLine($"wrote {weightsPath}");

        var blocks = BlockMask(T);
        PrintBlocks(blocks);
        string blocksPath = Path.Combine(output.FullName, "block-mask.png");
        DrawBlocks(blocks, T, blocksPath);
        Console.WriteLine($"wrote {blocksPath}");
        return 0;
    }

    /// <summary>
    /// Queries and keys with a position signal (sinusoids whose dot product peaks at equal positions and decays with the
    /// distance) plus noise, so that the picture shows local attention; the first position of each document is also a
    /// key every query of the document looks at a little (an attention sink).
    /// </summary>
    private static (float[] Q, float[] K) Inputs(int length)
    {
        var random = new Random(2026);
        var q = new float[length * Heads * HeadDim];
        var k = new float[q.Length];
        for (int t = 0; t < length; t++)
        for (int h = 0; h < Heads; h++)
        for (int d = 0; d < HeadDim / 2; d++)
        {
            double frequency = Math.Pow(0.5, d / 4.0) * 0.8; // wavelengths from ~8 to ~400 positions
            double phase = frequency * t;
            int at = (t * Heads + h) * HeadDim + 2 * d;
            double sink = t == StartOf(Kernels.Document(t)) ? 0.6 : 0;
            q[at] = (float)(1.2 * Math.Cos(phase) + 0.3 * random.NextDouble());
            q[at + 1] = (float)(1.2 * Math.Sin(phase) + 0.3 * random.NextDouble());
            k[at] = (float)(1.2 * Math.Cos(phase) + sink + 0.3 * random.NextDouble());
            k[at + 1] = (float)(1.2 * Math.Sin(phase) + sink + 0.3 * random.NextDouble());
        }
        return (q, k);
    }

    private static int StartOf(int document) => document switch { 0 => 0, 1 => Kernels.Start1, 2 => Kernels.Start2, _ => Kernels.Start3 };

    private enum BlockKind { Empty, Partial, Full }

    /// <summary>Classifies each (query block, key block) from the mask itself: the built-in causal mask AND the mask modifier.</summary>
    private static BlockKind[,] BlockMask(int length)
    {
        int blocks = (length + Block - 1) / Block;
        var kinds = new BlockKind[blocks, blocks];
        for (int qb = 0; qb < blocks; qb++)
        for (int kb = 0; kb < blocks; kb++)
        {
            int visible = 0, pairs = 0;
            for (int i = qb * Block; i < Math.Min(length, (qb + 1) * Block); i++)
            for (int j = kb * Block; j < Math.Min(length, (kb + 1) * Block); j++, pairs++)
                if (AttentionGeometry.IsVisible(i, j, length, length, Kernels.DocumentCausalKernel.Mask, Kernels.DocumentCausalKernel.Window)
                    && Kernels.Document(i) == Kernels.Document(j))
                    visible++;
            kinds[qb, kb] = visible == 0 ? BlockKind.Empty : visible == pairs ? BlockKind.Full : BlockKind.Partial;
        }
        return kinds;
    }

    private static void PrintBlocks(BlockKind[,] kinds)
    {
        Console.WriteLine($"Block mask ({Block}×{Block}; rows: query blocks, columns: key blocks; . empty, # full, + partial):");
        for (int qb = 0; qb < kinds.GetLength(0); qb++)
        {
            var row = Enumerable.Range(0, kinds.GetLength(1))
                .Select(kb => kinds[qb, kb] switch { BlockKind.Empty => ".", BlockKind.Full => "#", _ => "+" });
            Console.WriteLine("  " + string.Join(' ', row));
        }
    }

    /// <summary>Lowest log10 weight the colour scale shows (smaller weights get its colour).</summary>
    private const double MinLog10 = -4;

    /// <summary>The weights as a heatmap of log10(p), queries down and keys across; hidden pairs are left blank (NaN).</summary>
    private static void DrawWeights(float[,] weights, string path)
    {
        int rows = weights.GetLength(0), columns = weights.GetLength(1);
        var data = new double[rows, columns];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++)
            data[i, j] = weights[i, j] == 0f ? double.NaN : Math.Max(MinLog10, Math.Log10(weights[i, j]));
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(data);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Extent = new CoordinateRect(0, columns, rows, 0);
        heatmap.FlipVertically = true; // row 0 (query 0) at the top, with the y axis running down
        heatmap.ManualRange = new ScottPlot.Range(MinLog10, 0);
        plot.Add.ColorBar(heatmap); // log10 of the weight (the title says so; a bar label would overlap its ticks)
        plot.Axes.SetLimits(0, columns, rows, 0); // query 0 at the top
        plot.Title($"DocumentCausal: log10 attention weights of head {Head} (blank: masked)");
        plot.XLabel("key position");
        plot.YLabel("query position");
        plot.SavePng(path, 820, 720);
    }

    /// <summary>The block mask: one cell per (query block, key block), coloured and labelled empty, partial or full.</summary>
    private static void DrawBlocks(BlockKind[,] kinds, int length, string path)
    {
        var plot = new Plot();
        Color empty = Colors.LightGray, partial = Colors.Orange, full = Colors.SteelBlue;
        for (int qb = 0; qb < kinds.GetLength(0); qb++)
        for (int kb = 0; kb < kinds.GetLength(1); kb++)
        {
            var kind = kinds[qb, kb];
            var cell = plot.Add.Rectangle(kb * Block, (kb + 1) * Block, qb * Block, (qb + 1) * Block);
            cell.FillColor = kind switch { BlockKind.Empty => empty, BlockKind.Full => full, _ => partial };
            cell.LineColor = Colors.White;
            cell.LineWidth = 2;
            var text = plot.Add.Text(kind.ToString().ToLowerInvariant(), kb * Block + Block / 2.0, qb * Block + Block / 2.0);
            text.LabelAlignment = Alignment.MiddleCenter;
            text.LabelFontSize = 16;
            text.LabelFontColor = kind == BlockKind.Empty ? Colors.Gray : Colors.White;
        }
        // The document boundaries, for reference.
        foreach (int start in new[] { Kernels.Start1, Kernels.Start2, Kernels.Start3 })
        {
            var vertical = plot.Add.VerticalLine(start);
            var horizontal = plot.Add.HorizontalLine(start);
            vertical.LineColor = horizontal.LineColor = Colors.Black.WithAlpha(0.5);
            vertical.LinePattern = horizontal.LinePattern = LinePattern.Dashed;
        }
        plot.Axes.SetLimits(0, length, length, 0); // query block 0 at the top
        plot.Title($"DocumentCausal: {Block}×{Block} block mask (dashed: document boundaries)");
        plot.XLabel("key position");
        plot.YLabel("query position");
        plot.SavePng(path, 720, 720);
    }
}

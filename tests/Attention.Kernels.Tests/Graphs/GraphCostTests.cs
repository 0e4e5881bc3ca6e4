using Xunit;

namespace Attention.Kernels.Tests.Graphs;

/// <summary>The generated per-graph cost model ({Method}Cost) against hand-counted node costs.</summary>
public sealed class GraphCostTests
{
    [Fact]
    public void Encoder_cost_lists_every_step_and_sums_them()
    {
        const int B = 2, T = 10, F = TwoLayerEncoder.Features, H = TwoLayerEncoder.Hidden;
        var cost = TwoLayerEncoder.ForwardCost(B, T);
        Assert.Equal(["Linear", "Attention", "Linear", "LayerNorm", "Linear", "Linear", "LayerNorm"], cost.Steps.Take(7).Select(s => s.Kind));
        Assert.Equal(cost.Steps.Sum(s => s.Cost.Flops), cost.Total.Flops);
        Assert.Equal(cost.Steps.Sum(s => s.Cost.BytesMoved), cost.Total.BytesMoved);

        // up1: x·Wᵀ + b then GELU on [B·T, F] → [B·T, H]: 2·rows·F·H multiply-adds, bias and GELU per output.
        var up1 = cost.Steps.Single(s => s.Node == "up1").Cost;
        Assert.Equal(2.0 * B * T * F * H + 5.0 * B * T * H, up1.Flops);
        Assert.Equal((B * T * F + H * F + H + B * T * H) * 4.0, up1.BytesMoved);

        // Causal self-attention over T keys: T(T+1)/2 visible pairs per (batch, head), 4·D FLOPs each.
        var attention = cost.Steps.First(s => s.Kind == "Attention").Cost;
        Assert.Equal(4.0 * B * TwoLayerEncoder.Heads * TwoLayerEncoder.HeadDim * (T * (T + 1) / 2), attention.Flops);
    }

    [Fact]
    public void Document_classifier_cost_takes_the_segment_count()
    {
        var few = DocumentClassifier.ClassifyCost(1, 40, 2);
        var many = DocumentClassifier.ClassifyCost(1, 40, 8);
        Assert.True(many.Total.Flops > few.Total.Flops);
        Assert.Equal(8L * DocumentClassifier.Features * sizeof(float), many.Steps.Single(s => s.Kind == "HierarchicalAttention").Cost.ScratchBytes);
    }
}

using System.Collections.Generic;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Emit;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Nodes;

/// <summary>Weights of one attention-pooling level: [u] (Hidden 0) or [W, b, u] under a name prefix.</summary>
internal static class PoolingWeights
{
    public static int Declare(GraphAnalyzer.Planner plan, string node, string prefix, int features, int hidden)
    {
        if (hidden == 0)
            return plan.Weight(node, prefix + "u", [features], "scoring vector");
        int first = plan.Weight(node, prefix + "w", [hidden, features], "scoring layer W");
        plan.Weight(node, prefix + "b", [hidden], "scoring layer b");
        plan.Weight(node, prefix + "u", [hidden], "scoring vector");
        return first;
    }

    /// <summary>u, W, b, hidden arguments of a pooling op.</summary>
    public static string Arguments(int first, int hidden) => hidden == 0
        ? $"weights[{first}], {StepWriter.NoWeight}, {StepWriter.NoWeight}, 0"
        : $"weights[{first + 2}], weights[{first}], weights[{first + 1}], {hidden}";
}

/// <summary>[AttentionPooling]: [B, T, F] → [B, F], softmax-weighted sum over time with learned scores.</summary>
internal sealed class AttentionPoolingKind() : NodeKind("AttentionPooling")
{
    public override GraphValue? Shape(ShapeContext c) =>
        c.Node.Int("Hidden") is var hidden && (hidden == 0 || c.Positive("Hidden", hidden)) ? new GraphValue(c.Node.Name, c.X.Features, true, IntRole.None) : null;

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        int hidden = node.Int("Hidden");
        int first = PoolingWeights.Declare(plan, node.Name, "", x.Features, hidden);
        plan.Steps.Add(new PoolingStep(node.Name, node.Inputs[0].Value, x.Features, hidden,
            $"{node.Name} = Σ_t softmax_t(score(x_t))·x_t over {node.Inputs[0].Value}, one streaming pass", first));
    }
}

internal sealed record PoolingStep(string Output, string Input, int Width, int Hidden, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, true, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => [Input];

    public override string Kind => "AttentionPooling";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.AttentionPooling({s.Id(Input)}, batch, length, {Width}, {PoolingWeights.Arguments(FirstWeight, Hidden)}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.AttentionPooling((long)batch * length, batch, {Width}, {Hidden})";
}

/// <summary>[HierarchicalAttention]: pooling within the segments of an offsets parameter, then across them.</summary>
internal sealed class HierarchicalAttentionKind() : NodeKind("HierarchicalAttention")
{
    public override IReadOnlyList<string> InputRoles { get; } = ["From", "Segments"];

    public override IntRole? IntInput(string role) => role == "Segments" ? IntRole.Offsets : null;

    public override GraphValue? Shape(ShapeContext c) => new(c.Node.Name, c.X.Features, true, IntRole.None);

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        int wordHidden = node.Int("WordHidden"), segmentHidden = node.Int("SegmentHidden");
        int first = PoolingWeights.Declare(plan, node.Name, "word.", x.Features, wordHidden);
        PoolingWeights.Declare(plan, node.Name, "segment.", x.Features, segmentHidden);
        plan.Steps.Add(new HierarchicalStep(node.Name, node.Inputs[0].Value, node.Inputs[1].Value, x.Features, wordHidden, segmentHidden,
            $"{node.Name} = pool over segments of (pool within each segment of {node.Inputs[0].Value})", first));
    }
}

internal sealed record HierarchicalStep(string Output, string Input, string Segments, int Width, int WordHidden, int SegmentHidden, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, true, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => [Input, Segments];

    public override string Kind => "HierarchicalAttention";

    public override string? CostSize => "segments";

    public override void WriteRun(StepWriter s)
    {
        int second = FirstWeight + (WordHidden == 0 ? 1 : 3);
        s.W.Line($"{StepWriter.Ops}.HierarchicalAttention({s.Id(Input)}, batch, length, {Width}, {Segments}, {Segments}.Dim(1) - 1,");
        s.W.Line($"    {PoolingWeights.Arguments(FirstWeight, WordHidden)}, {PoolingWeights.Arguments(second, SegmentHidden)}, {s.Id(Output)});");
    }

    public override string Cost(StepWriter s) =>
        $"{StepWriter.NodeCost}.HierarchicalAttention(batch, length, {Width}, segments, {WordHidden}, {SegmentHidden})";
}

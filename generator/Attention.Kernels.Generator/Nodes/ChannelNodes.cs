using System.Collections.Generic;
using System.Linq;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Emit;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Nodes;

/// <summary>[SqueezeExcitation]: mean over time → FC → ReLU → FC → sigmoid → scale the channels.</summary>
internal sealed class SqueezeExcitationKind() : NodeKind("SqueezeExcitation")
{
    public override GraphValue? Shape(ShapeContext c)
    {
        int reduction = c.Node.Int("Reduction", 4);
        if (!c.Positive("Reduction", reduction))
            return null;
        if (c.X.Features % reduction != 0)
        {
            c.Mismatch(c.Node.Where("Reduction"), $"Squeeze-excitation '{c.Node.Name}': {c.X.Features} channels do not divide by Reduction = {reduction}");
            return null;
        }
        return c.SameAsInput();
    }

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        int reduced = x.Features / node.Int("Reduction", 4);
        int first = plan.Weight(node.Name, "w1", [reduced, x.Features], "squeeze FC");
        plan.Weight(node.Name, "b1", [reduced], "squeeze bias");
        plan.Weight(node.Name, "w2", [x.Features, reduced], "excite FC");
        plan.Weight(node.Name, "b2", [x.Features], "excite bias");
        string input = node.Inputs[0].Value;
        plan.Steps.Add(new SqueezeStep(node.Name, input, x.Features, reduced,
            $"{node.Name} = {input}·sigmoid(FC(ReLU(FC(mean_t {input})))), two passes", first));
    }
}

internal sealed record SqueezeStep(string Output, string Input, int Channels, int Reduced, string Explanation, int FirstWeight)
    : ModelStep(Output, Channels, false, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => [Input];

    public override string Kind => "SqueezeExcitation";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.SqueezeExcitation({s.Id(Input)}, batch, length, {Channels}, {s.Weight(FirstWeight)}, {s.Weight(FirstWeight + 1)}, {Reduced}, {s.Weight(FirstWeight + 2)}, {s.Weight(FirstWeight + 3)}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.SqueezeExcitation(batch, length, {Channels}, {Reduced})";
}

/// <summary>[PositionalWeighting]: y[t] = x[t]·(1 + p[t]), p [MaxLength, F].</summary>
internal sealed class PositionalWeightingKind() : NodeKind("PositionalWeighting")
{
    public override GraphValue? Shape(ShapeContext c) => c.Positive("MaxLength", c.Node.Int("MaxLength")) ? c.SameAsInput() : null;

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        int maxLength = node.Int("MaxLength");
        int first = plan.Weight(node.Name, "p", [maxLength, x.Features], "per-position weights");
        plan.Steps.Add(new PositionalStep(node.Name, node.Inputs[0].Value, x.Features, maxLength, $"{node.Name} = {node.Inputs[0].Value}·(1 + p[t])", first));
    }
}

internal sealed record PositionalStep(string Output, string Input, int Width, int MaxLength, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, false, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => [Input];

    public override string Kind => "PositionalWeighting";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.PositionalWeighting({s.Id(Input)}, batch, length, {Width}, {s.Weight(FirstWeight)}, {MaxLength}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.PositionalWeighting(batch, length, {Width})";
}

/// <summary>[LayerwiseAdaptive]: γ·Σ_l softmax(a)_l·layer_l over the comma-separated values of <c>From</c>.</summary>
internal sealed class LayerwiseAdaptiveKind() : NodeKind("LayerwiseAdaptive")
{
    public override bool ListInput => true;

    public override bool AcceptsPooled => true;

    public override GraphValue? Shape(ShapeContext c)
    {
        foreach (var (layer, layerAt) in c.Inputs.Skip(1))
        {
            if (layer.Features != c.X.Features || layer.Pooled != c.X.Pooled || layer.IsInt)
            {
                c.Mismatch(layerAt, $"Layer-wise mix '{c.Node.Name}': '{layer.Name}' ({ShapeContext.Describe(layer)}) differs from '{c.X.Name}' ({ShapeContext.Describe(c.X)})");
                return null;
            }
        }
        return c.SameAsInput();
    }

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        var layers = node.Inputs.Select(i => i.Value).ToEquatableArray();
        int first = plan.Weight(node.Name, "logits", [layers.Count], "mixing logits");
        plan.Weight(node.Name, "gamma", [1], "scale γ");
        plan.Steps.Add(new MixStep(node.Name, layers, x.Features, x.Pooled,
            $"{node.Name} = γ·Σ softmax(logits)_l·{{{string.Join(", ", layers)}}}", first));
    }
}

internal sealed record MixStep(string Output, EquatableArray<string> Inputs, int Width, bool InputsPooled, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, InputsPooled, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => Inputs;

    public override string Kind => "LayerwiseAdaptive";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.LayerwiseMix(new {Names.Tensor}[] {{ {string.Join(", ", Inputs.Select(s.Id))} }}, {s.Count(Inputs[0])}, {s.Weight(FirstWeight)}, {s.Weight(FirstWeight + 1)}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.LayerwiseMix({Inputs.Count}, {s.Count(Inputs[0])})";
}

using System.Collections.Generic;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Emit;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Nodes;

// Linear, Add, Norm and Activation keep their input's form: [B, T, F] stays a sequence, pooled [B, F] stays pooled.

/// <summary>[Linear]: y = act(x·Wᵀ + b); weights <c>weight</c> [out, in] and <c>bias</c>; residuals and activations fuse into it.</summary>
internal sealed class LinearKind() : NodeKind("Linear")
{
    public override bool AcceptsPooled => true;

    public override GraphValue? Shape(ShapeContext c) =>
        c.Positive("OutFeatures", c.Node.Int("OutFeatures")) ? new GraphValue(c.Node.Name, c.Node.Int("OutFeatures"), c.X.Pooled, IntRole.None) : null;

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        plan.AddLinear(node.Name, node.Inputs[0].Value, x.Features, plan.Output(node).Features, node.Int("Bias", 1) != 0, node.Int("Activation"), x.Pooled);
    }
}

internal sealed record LinearStep(string Output, string Input, int InFeatures, int OutFeatures, bool Bias, int Activation, string? Residual,
    bool Pooled, string Explanation, int FirstWeight) : ModelStep(Output, OutFeatures, Pooled, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => Residual is null ? [Input] : [Input, Residual];

    public override string Kind => "Linear";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.Linear({s.Id(Input)}, {s.Rows(Input)}, {InFeatures}, {s.Weight(FirstWeight)}, {(Bias ? s.Weight(FirstWeight + 1) : StepWriter.NoWeight)}, {OutFeatures}, {s.Id(Output)}, {StepWriter.Activation(Activation)}, {(Residual is null ? "null" : s.Id(Residual))});");

    public override string Cost(StepWriter s) =>
        $"{StepWriter.NodeCost}.Linear({s.Rows(Input)}, {InFeatures}, {OutFeatures}, {StepWriter.Bool(Bias)}, {StepWriter.Activation(Activation)}, {StepWriter.Bool(Residual is not null)})";
}

/// <summary>[Residual]: From + Skip; fused into the Linear producing either operand when that Linear has no other reader.</summary>
internal sealed class ResidualKind() : NodeKind("Residual")
{
    public override IReadOnlyList<string> InputRoles { get; } = ["From", "Skip"];

    public override bool AcceptsPooled => true;

    public override GraphValue? Shape(ShapeContext c)
    {
        var (skip, skipAt) = c.Inputs.Count > 1 ? c.Inputs[1] : (c.X, c.At);
        if (skip.IsInt || skip.Features != c.X.Features || skip.Pooled != c.X.Pooled)
        {
            c.Mismatch(skipAt, $"Residual '{c.Node.Name}' adds '{skip.Name}' ({ShapeContext.Describe(skip)}) to '{c.X.Name}' ({ShapeContext.Describe(c.X)}); both must have the same shape");
            return null;
        }
        return c.SameAsInput();
    }

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        string input = node.Inputs[0].Value, skip = node.Inputs[1].Value;
        if (!plan.TryFuse(node, input, skip, fuse: (linear, other) => linear with { Output = node.Name, Residual = other },
                what: "the residual add happens in the GEMM epilogue"))
            plan.Steps.Add(new AddStep(node.Name, input, skip, plan.Output(node).Features, plan.Input(node).Pooled, $"{node.Name} = {input} + {skip}"));
    }
}

internal sealed record AddStep(string Output, string Left, string Right, int Width, bool Pooled, string Explanation)
    : ModelStep(Output, Width, Pooled, Explanation, -1)
{
    public override IEnumerable<string> Reads => [Left, Right];

    public override string Kind => "Residual";
    public override void WriteRun(StepWriter s) => s.W.Line($"{StepWriter.Ops}.Add({s.Id(Left)}, {s.Id(Right)}, {s.Count(Left)}, {s.Id(Output)});");
    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.Add({s.Count(Left)})";
}

/// <summary>[LayerNorm] (γ, β) and [RmsNorm] (γ) over the features.</summary>
internal sealed class NormKind(string name) : NodeKind(name)
{
    private bool Rms => Name == "RmsNorm";

    public override bool AcceptsPooled => true;

    public override GraphValue? Shape(ShapeContext c)
    {
        if (!(c.Node.Number("Epsilon", 1e-5) > 0))
        {
            c.Unsupported(c.Node.Where("Epsilon"), $"Epsilon of '{c.Node.Name}' must be positive");
            return null;
        }
        return c.SameAsInput();
    }

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        int first = plan.Weight(node.Name, "gamma", [x.Features], "scale γ");
        if (!Rms)
            plan.Weight(node.Name, "beta", [x.Features], "shift β");
        plan.Steps.Add(new NormStep(node.Name, node.Inputs[0].Value, x.Features, Rms, node.Number("Epsilon", Rms ? 1e-6 : 1e-5), x.Pooled,
            $"{node.Name} = {node.Kind}({node.Inputs[0].Value}) over {x.Features} features", first));
    }
}

internal sealed record NormStep(string Output, string Input, int Width, bool Rms, double Epsilon, bool Pooled, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, Pooled, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => [Input];

    public override string Kind => Rms ? "RmsNorm" : "LayerNorm";

    public override void WriteRun(StepWriter s) => s.W.Line(Rms
        ? $"{StepWriter.Ops}.RmsNorm({s.Id(Input)}, {s.Rows(Input)}, {Width}, {s.Weight(FirstWeight)}, {Names.Float(Epsilon)}, {s.Id(Output)});"
        : $"{StepWriter.Ops}.LayerNorm({s.Id(Input)}, {s.Rows(Input)}, {Width}, {s.Weight(FirstWeight)}, {s.Weight(FirstWeight + 1)}, {Names.Float(Epsilon)}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.Norm({s.Rows(Input)}, {Width}, rms: {StepWriter.Bool(Rms)})";
}

/// <summary>[Gelu] and [Relu], element-wise; fused into the producing Linear's epilogue when it has no other reader.</summary>
internal sealed class ActivationKind(string name) : NodeKind(name)
{
    public override bool AcceptsPooled => true;

    public override GraphValue? Shape(ShapeContext c) => c.SameAsInput();

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        int activation = Name == "Gelu" ? GraphAnalyzer.ActivationGelu : GraphAnalyzer.ActivationRelu;
        string input = node.Inputs[0].Value;
        if (!plan.TryFuse(node, input, null,
                fuse: (linear, _) => linear.Activation == GraphAnalyzer.ActivationNone ? linear with { Output = node.Name, Activation = activation } : null,
                what: $"{node.Kind} is applied in the GEMM epilogue"))
            plan.Steps.Add(new ActivationStep(node.Name, input, plan.Output(node).Features, activation, plan.Input(node).Pooled, $"{node.Name} = {node.Kind}({input})"));
    }
}

internal sealed record ActivationStep(string Output, string Input, int Width, int Activation, bool Pooled, string Explanation)
    : ModelStep(Output, Width, Pooled, Explanation, -1)
{
    public override IEnumerable<string> Reads => [Input];

    public override string Kind => Activation == GraphAnalyzer.ActivationGelu ? "Gelu" : "Relu";
    public override void WriteRun(StepWriter s) => s.W.Line($"{StepWriter.Ops}.Activate({s.Id(Input)}, {s.Count(Input)}, {StepWriter.Activation(Activation)}, {s.Id(Output)});");
    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.Activate({s.Count(Input)}, {StepWriter.Activation(Activation)})";
}

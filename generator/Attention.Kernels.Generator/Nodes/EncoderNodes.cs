using System.Collections.Generic;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Emit;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Nodes;

/// <summary>
/// [Embedding]: token ids [B, T] → [B, T, Features], the sum of the token, position and token-type rows, then an
/// optional LayerNorm (Epsilon &gt; 0), in one pass. Weights <c>tokens</c>, <c>positions</c>, <c>types</c>, <c>gamma</c>, <c>beta</c>.
/// </summary>
internal sealed class EmbeddingKind() : NodeKind("Embedding")
{
    public override IReadOnlyList<string> OptionalRoles { get; } = ["TokenTypeIds"];

    public override IntRole? IntInput(string role) => IntRole.Ids; // From and TokenTypeIds are both ids

    public override GraphValue? Shape(ShapeContext c)
    {
        var node = c.Node;
        if (!c.Positive("Vocabulary", node.Int("Vocabulary")) || !c.Positive("Features", node.Int("Features")))
            return null;
        foreach (string table in new[] { "Positions", "TokenTypes" })
        {
            if (node.Argument(table) is not null && !c.Positive(table, node.Int(table)))
                return null;
        }
        if (c.Inputs.Count > 1 && node.Int("TokenTypes") == 0)
        {
            c.Report(DiagnosticDescriptors.TokenTypesWithoutTable, c.Inputs[1].Location, node.Name, c.Inputs[1].Value.Name);
            return null;
        }
        if (!(node.Number("Epsilon") >= 0))
        {
            c.Unsupported(node.Where("Epsilon"), $"Epsilon of '{node.Name}' must be positive (LayerNorm after the sum) or 0 (none)");
            return null;
        }
        return new GraphValue(node.Name, node.Int("Features"), false, IntRole.None);
    }

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        int features = node.Int("Features"), vocabulary = node.Int("Vocabulary"), positions = node.Int("Positions"), types = node.Int("TokenTypes");
        double epsilon = node.Number("Epsilon");
        int first = plan.Weight(node.Name, "tokens", [vocabulary, features], "token embeddings");
        if (positions > 0)
            plan.Weight(node.Name, "positions", [positions, features], "position embeddings");
        if (types > 0)
            plan.Weight(node.Name, "types", [types, features], "token-type embeddings");
        if (epsilon > 0)
        {
            plan.Weight(node.Name, "gamma", [features], "LayerNorm scale γ");
            plan.Weight(node.Name, "beta", [features], "LayerNorm shift β");
        }
        string ids = node.Inputs[0].Value;
        string? typeIds = node.Inputs.Count > 1 ? node.Inputs[1].Value : null;
        string sum = $"tokens[{ids}]" + (positions > 0 ? " + positions[t]" : "") + (types > 0 ? $" + types[{typeIds ?? "0"}]" : "");
        plan.Steps.Add(new EmbeddingStep(node.Name, ids, typeIds, features, vocabulary, positions, types, epsilon,
            $"{node.Name} = {(epsilon > 0 ? $"LayerNorm({sum})" : sum)}, one gather pass over the ids", first));
    }
}

internal sealed record EmbeddingStep(string Output, string Ids, string? TypeIds, int Width, int Vocabulary, int Positions, int TokenTypes, double Epsilon,
    string Explanation, int FirstWeight) : ModelStep(Output, Width, false, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => TypeIds is null ? [Ids] : [Ids, TypeIds];

    public override string Kind => "Embedding";

    public override void WriteRun(StepWriter s)
    {
        int next = FirstWeight + 1;
        string positions = Positions > 0 ? s.Weight(next++) : StepWriter.NoWeight;
        string types = TokenTypes > 0 ? s.Weight(next++) : StepWriter.NoWeight;
        string gamma = Epsilon > 0 ? s.Weight(next) : StepWriter.NoWeight, beta = Epsilon > 0 ? s.Weight(next + 1) : StepWriter.NoWeight;
        s.W.Line($"{StepWriter.Ops}.Embedding({s.Id(Ids)}, {(TypeIds is null ? "null" : s.Id(TypeIds))}, batch, length, {Width},");
        s.W.Line($"    {s.Weight(FirstWeight)}, {Vocabulary}, {positions}, {Positions}, {types}, {TokenTypes}, {gamma}, {beta}, {Names.Float(Epsilon)}, {s.Id(Output)});");
    }

    public override string Cost(StepWriter s) =>
        $"{StepWriter.NodeCost}.Embedding((long)batch * length, {Width}, positions: {StepWriter.Bool(Positions > 0)}, types: {StepWriter.Bool(TokenTypes > 0)}, norm: {StepWriter.Bool(Epsilon > 0)})";
}

/// <summary>[MeanPooling]: [B, T, F] → [B, F], the mean of each row's valid tokens (all T without padding).</summary>
internal sealed class MeanPoolingKind() : NodeKind("MeanPooling")
{
    public override IReadOnlyList<string> OptionalRoles { get; } = ["Padding"];

    public override IntRole? IntInput(string role) => role == "Padding" ? IntRole.Padding : null;

    public override GraphValue? Shape(ShapeContext c) => new(c.Node.Name, c.X.Features, true, IntRole.None);

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        string input = node.Inputs[0].Value;
        string? padding = node.Inputs.Count > 1 ? node.Inputs[1].Value : null;
        plan.Steps.Add(new MeanPoolingStep(node.Name, input, padding, plan.Input(node).Features,
            $"{node.Name} = mean over the {(padding is null ? "" : $"valid ({padding}) ")}tokens of {input}", -1));
    }
}

internal sealed record MeanPoolingStep(string Output, string Input, string? Padding, int Width, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, true, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => Padding is null ? [Input] : [Input, Padding];

    public override string Kind => "MeanPooling";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.MeanPooling({s.Id(Input)}, batch, length, {Width}, {(Padding is null ? "null" : s.Lengths(Padding))}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.MeanPooling(batch, length, {Width})";
}

/// <summary>[L2Normalize]: each row divided by max(‖row‖₂, ε); keeps its input's form.</summary>
internal sealed class L2NormalizeKind() : NodeKind("L2Normalize")
{
    public override bool AcceptsPooled => true;

    public override GraphValue? Shape(ShapeContext c)
    {
        if (!(c.Node.Number("Epsilon", 1e-12) > 0))
        {
            c.Unsupported(c.Node.Where("Epsilon"), $"Epsilon of '{c.Node.Name}' must be positive");
            return null;
        }
        return c.SameAsInput();
    }

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        var x = plan.Input(node);
        string input = node.Inputs[0].Value;
        plan.Steps.Add(new L2NormalizeStep(node.Name, input, x.Features, node.Number("Epsilon", 1e-12), x.Pooled,
            $"{node.Name} = {input} / max(‖{input}‖₂, ε) per row", -1));
    }
}

internal sealed record L2NormalizeStep(string Output, string Input, int Width, double Epsilon, bool Pooled, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, Pooled, Explanation, FirstWeight)
{
    public override IEnumerable<string> Reads => [Input];

    public override string Kind => "L2Normalize";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{StepWriter.Ops}.L2Normalize({s.Id(Input)}, {s.Rows(Input)}, {Width}, {Names.Float(Epsilon)}, {s.Id(Output)});");

    public override string Cost(StepWriter s) => $"{StepWriter.NodeCost}.L2Normalize({s.Rows(Input)}, {Width})";
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Model;
using Attention.Kernels.Generator.Parsing;

namespace Attention.Kernels.Generator.Analysis;

/// <summary>
/// Turns a parsed graph method into a plan: resolve names, reject cycles, infer shapes, check every connection,
/// expand convenience nodes, fuse what can be fused (saying why not otherwise), and lay out the weights.
/// </summary>
internal static class GraphAnalyzer
{
    private const int ActivationNone = 0, ActivationRelu = 1, ActivationGelu = 2;

    /// <summary>The largest feature count (and hidden size, output width, positional length) a graph takes: 2^20.</summary>
    public const int MaxFeatures = 1 << 20;

    /// <summary>A node after name resolution: what it reads, with the location to blame for each input.</summary>
    private sealed class Node(ParsedNode parsed, int order)
    {
        public ParsedNode Parsed { get; } = parsed;
        public int Order { get; } = order;
        public string Name => Parsed.Name;
        public string Kind => Parsed.Kind;
        public List<(string Value, LocationInfo? Location)> Inputs { get; } = [];
        public GraphValue? Output { get; set; }

        public NodeArgument? Argument(string name) => Parsed.Arguments.FirstOrDefault(a => a.Name == name);
        public double Number(string name, double fallback = 0) => Argument(name)?.Number ?? fallback;
        public int Int(string name, int fallback = 0) => Argument(name)?.Number is { } n ? KernelAnalyzer.ClampToInt(n) : fallback;
        public LocationInfo? Where(string name) => Argument(name)?.Location ?? Parsed.Location;
    }

    public static ModelDeclaration Analyze(ParsedModel parsed)
    {
        try
        {
            return AnalyzeCore(parsed);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var error = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, parsed.Method.Location, parsed.Method.Name,
                exception.GetType().Name + ": " + exception.Message);
            return Declaration(parsed, EmptyGraph, [error], canEmit: false);
        }
    }

    private static readonly ModelGraph EmptyGraph = new(EquatableArray<GraphValue>.Empty, EquatableArray<GraphValue>.Empty,
        EquatableArray<ModelStep>.Empty, EquatableArray<WeightDeclaration>.Empty, EquatableArray<string>.Empty);

    private static ModelDeclaration Declaration(ParsedModel parsed, ModelGraph graph, List<DiagnosticInfo> diagnostics, bool canEmit) =>
        new(parsed.TypeKey, parsed.Namespace, parsed.ContainingTypes,
            new KernelMethodInfo(parsed.Method.Name, parsed.Method.Modifiers, parsed.Parameters.Select(p => new ParameterInfo(p.Name, p.Type)).ToEquatableArray(),
                parsed.Method.ReturnType, parsed.Method.IsStatic),
            parsed.Method.IsStatic, graph, diagnostics.ToEquatableArray(), canEmit);

    private static ModelDeclaration AnalyzeCore(ParsedModel parsed)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        var method = parsed.Method;
        bool canEmit = parsed.Diagnostics.Count == 0;
        if (method.BodyLocation is not null)
        {
            // The user wrote the body: generating one would be CS0757 inside the generated file.
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BodyWritten, method.BodyLocation, method.Name, "its graph nodes"));
            return Declaration(parsed, EmptyGraph, diagnostics, canEmit: false);
        }
        if (!method.IsPartialDefinition || !method.ReturnsVoid || method.IsGeneric)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GraphMethodShape, method.Location, method.Name));
            canEmit = false;
        }
        foreach (string type in parsed.NonPartialTypes)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial, method.Location, type, method.Name));
            canEmit = false;
        }
        if (!canEmit)
            return Declaration(parsed, EmptyGraph, diagnostics, canEmit);
        if (parsed.Nodes.Count == 0)
        {
            // A partial method of the model class that C# needs a body for, but no node to generate it from: an error
            // stub keeps CS8795 away, so this is the one diagnostic.
            string type = parsed.ContainingTypes.Count > 0 ? parsed.ContainingTypes[parsed.ContainingTypes.Count - 1].Name : parsed.TypeKey;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GraphWithoutNodes, method.Location, method.Name, type));
            return Declaration(parsed, EmptyGraph, diagnostics, canEmit: true);
        }

        void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? location, params object?[] args) =>
            diagnostics.Add(DiagnosticInfo.Create(descriptor, location, args));

        // 1. Names: parameters and nodes share one namespace; a parameter named like a node is that node's output.
        var nodes = new List<Node>();
        var byName = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var parsedNode in parsed.Nodes)
        {
            if (string.IsNullOrWhiteSpace(parsedNode.Name))
            {
                Report(DiagnosticDescriptors.UnsupportedCombination, parsedNode.Location, $"A [{parsedNode.Kind}] node in a graph needs a name as its first argument");
                continue;
            }
            if (byName.ContainsKey(parsedNode.Name))
            {
                Report(DiagnosticDescriptors.DuplicateName, parsedNode.Location, parsedNode.Name, method.Name);
                continue;
            }
            var node = new Node(parsedNode, nodes.Count);
            nodes.Add(node);
            byName.Add(node.Name, node);
        }
        var parameters = parsed.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var values = new Dictionary<string, GraphValue>(StringComparer.Ordinal);
        var inputs = new List<GraphValue>();
        foreach (var parameter in parsed.Parameters)
        {
            if (parameter.Kind == ParameterKind.Other)
            {
                Report(DiagnosticDescriptors.UnsupportedCombination, parameter.Location, $"Graph parameter '{parameter.Name}' must be a by-value Tensor<float> (or Tensor<int> for segment offsets), not {parameter.Type}");
                continue;
            }
            if (byName.ContainsKey(parameter.Name))
                continue; // an output
            if (parameter.Kind == ParameterKind.IntTensor)
            {
                values[parameter.Name] = new GraphValue(parameter.Name, 0, false, IsOffsets: true);
            }
            else if (parameter.Features <= 0)
            {
                Report(parameter.Features == 0 ? DiagnosticDescriptors.MissingFeatures : DiagnosticDescriptors.NotPositive, parameter.Location,
                    parameter.Features == 0 ? [parameter.Name] : [$"Features of '{parameter.Name}'", parameter.Features.ToString(CultureInfo.InvariantCulture)]);
                continue;
            }
            else if (parameter.Features > MaxFeatures)
            {
                Report(DiagnosticDescriptors.ValueTooLarge, parameter.Location, $"Features of '{parameter.Name}'", parameter.Features, MaxFeatures);
                continue;
            }
            else
            {
                values[parameter.Name] = new GraphValue(parameter.Name, parameter.Features, false, false);
            }
            inputs.Add(values[parameter.Name]);
        }

        // 2. What each node reads.
        foreach (var node in nodes)
        {
            foreach (string role in InputRoles(node.Kind))
            {
                var argument = node.Argument(role);
                if (string.IsNullOrWhiteSpace(argument?.Text))
                {
                    Report(DiagnosticDescriptors.UnsupportedCombination, node.Parsed.Location, $"Node '{node.Name}' needs {role} = \"value name\"");
                    continue;
                }
                var names = node.Kind == "LayerwiseAdaptive" && role == "From"
                    ? argument!.Text!.Split(',').Select(n => n.Trim()).Where(n => n.Length > 0)
                    : [argument!.Text!.Trim()];
                foreach (string name in names)
                {
                    if (!byName.ContainsKey(name) && !parameters.ContainsKey(name))
                        Report(DiagnosticDescriptors.UnknownValue, argument.Location, name, method.Name);
                    else
                        node.Inputs.Add((name, argument.Location));
                }
            }
        }

        // 3. Order: dependencies first, source order otherwise. Whatever cannot be ordered is a cycle.
        var order = TopologicalOrder(nodes, byName, out var cyclic);
        if (cyclic.Count > 0)
            Report(DiagnosticDescriptors.Cycle, cyclic[0].Parsed.Location, string.Join(" → ", cyclic.Select(n => $"'{n.Name}'")));

        // 4. Shapes, in order.
        foreach (var node in order)
        {
            var inputValues = node.Inputs.Select(i => (Value: values.TryGetValue(i.Value, out var v) ? v : null, i.Location)).ToList();
            if (inputValues.Any(i => i.Value is null))
                continue; // an input that failed earlier was reported there
            node.Output = InferShape(node, inputValues!, diagnostics);
            if (node.Output is not null)
                values[node.Name] = node.Output;
        }

        // 5. Outputs and unused values.
        var readers = nodes.SelectMany(n => n.Inputs.Select(i => (i.Value, Reader: n))).ToLookup(x => x.Value, x => x.Reader);
        var outputs = new List<GraphValue>();
        foreach (var parameter in parsed.Parameters.Where(p => p.Kind != ParameterKind.Other))
        {
            if (byName.TryGetValue(parameter.Name, out var producer))
            {
                if (producer.Output is { } produced)
                {
                    if (parameter.Features > 0 && parameter.Features != produced.Features)
                        Report(DiagnosticDescriptors.DimensionMismatch, parameter.Location,
                            $"Output '{parameter.Name}' declares [Features({parameter.Features})] but node '{producer.Name}' produces {produced.Features} features");
                    outputs.Add(produced);
                }
            }
            else if (!readers.Contains(parameter.Name))
            {
                Report(DiagnosticDescriptors.ParameterNeverUsed, parameter.Location, parameter.Name);
            }
        }
        foreach (var node in nodes.Where(n => !readers.Contains(n.Name) && !parameters.ContainsKey(n.Name)))
            Report(DiagnosticDescriptors.UnusedNode, node.Parsed.Location, node.Name, method.Name);

        if (diagnostics.Any(d => d.IsError))
            return Declaration(parsed, EmptyGraph, diagnostics, canEmit: true);

        // 6. Plan: expand, fuse, lay out weights.
        var plan = new Planner(values, parameters.Keys, readers, diagnostics);
        foreach (var node in order)
        {
            int before = plan.Weights.Count;
            plan.Add(node);
            // A weight is addressed with 32-bit element counts (spans, device copies): a larger one is AK0015 at its node.
            foreach (var weight in plan.Weights.Skip(before))
            {
                long length = weight.Shape.Aggregate(1L, (a, b) => a * b);
                if (length > int.MaxValue)
                    Report(DiagnosticDescriptors.ValueTooLarge, node.Parsed.Location, $"Weight '{weight.Node}.{weight.Name}' size ({string.Join(" × ", weight.Shape)} floats)", length, int.MaxValue);
            }
        }
        if (diagnostics.Any(d => d.IsError))
            return Declaration(parsed, EmptyGraph, diagnostics, canEmit: true);
        var graph = new ModelGraph(inputs.ToEquatableArray(), outputs.ToEquatableArray(), plan.Steps.ToEquatableArray(),
            plan.Weights.ToEquatableArray(), plan.Notes.ToEquatableArray());
        return Declaration(parsed, graph, diagnostics, canEmit: true);
    }

    private static IEnumerable<string> InputRoles(string kind) => kind switch
    {
        "Residual" => ["From", "Skip"],
        "HierarchicalAttention" => ["From", "Segments"],
        _ => ["From"],
    };

    private static List<Node> TopologicalOrder(List<Node> nodes, Dictionary<string, Node> byName, out List<Node> cyclic)
    {
        var done = new HashSet<Node>();
        var result = new List<Node>();
        bool progress = true;
        while (progress)
        {
            progress = false;
            foreach (var node in nodes)
            {
                if (done.Contains(node) || node.Inputs.Any(i => byName.TryGetValue(i.Value, out var dep) && !done.Contains(dep)))
                    continue;
                done.Add(node);
                result.Add(node);
                progress = true;
            }
        }
        cyclic = nodes.Where(n => !done.Contains(n)).ToList();
        return result;
    }

    /// <summary>The node's output shape from its inputs, or null after reporting why it does not fit.</summary>
    private static GraphValue? InferShape(Node node, List<(GraphValue Value, LocationInfo? Location)> inputs, List<DiagnosticInfo> diagnostics)
    {
        void Mismatch(LocationInfo? at, string message) => diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DimensionMismatch, at, message));
        void Unsupported(LocationInfo? at, string message) => diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedCombination, at, message));
        bool Positive(string name, int value)
        {
            if (value > MaxFeatures)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ValueTooLarge, node.Where(name), name, value, MaxFeatures));
                return false;
            }
            if (value > 0)
                return true;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPositive, node.Where(name), name, value));
            return false;
        }

        if (inputs.Count == 0)
            return null;
        var (x, at) = inputs[0];
        if (x.IsOffsets)
        {
            Unsupported(at, $"'{x.Name}' holds segment offsets (Tensor<int>); node '{node.Name}' needs a Tensor<float> value");
            return null;
        }
        bool sequenceOnly = node.Kind is not ("Linear" or "Residual" or "LayerNorm" or "RmsNorm" or "Gelu" or "Relu" or "LayerwiseAdaptive");
        if (x.Pooled && sequenceOnly)
        {
            Unsupported(at, $"Node '{node.Name}' ({node.Kind}) needs a [B, T, F] sequence, but '{x.Name}' is pooled to [B, {x.Features}]");
            return null;
        }

        switch (node.Kind)
        {
            case "Linear":
                return Positive("OutFeatures", node.Int("OutFeatures")) ? new GraphValue(node.Name, node.Int("OutFeatures"), x.Pooled, false) : null;
            case "Residual":
            {
                var (skip, skipAt) = inputs.Count > 1 ? inputs[1] : (x, at);
                if (skip.IsOffsets || skip.Features != x.Features || skip.Pooled != x.Pooled)
                {
                    Mismatch(skipAt, $"Residual '{node.Name}' adds '{skip.Name}' ({Describe(skip)}) to '{x.Name}' ({Describe(x)}); both must have the same shape");
                    return null;
                }
                return x with { Name = node.Name };
            }
            case "LayerNorm" or "RmsNorm" or "Gelu" or "Relu":
                if (node.Kind is "LayerNorm" or "RmsNorm" && !(node.Number("Epsilon", 1e-5) > 0))
                {
                    Unsupported(node.Where("Epsilon"), $"Epsilon of '{node.Name}' must be positive");
                    return null;
                }
                return x with { Name = node.Name };
            case "ScaledDotProductAttention" or "MultiHeadAttention":
            {
                var arguments = node.Parsed.Arguments.Where(a => a.Number is not null).ToDictionary(a => a.Name, a => (a.Number!.Value, a.Location));
                if (arguments.ContainsKey("Layout") || arguments.ContainsKey("Scale") && node.Kind == "MultiHeadAttention")
                {
                    Unsupported(node.Where("Layout"), $"In a graph, attention reads and writes [B, T, F] values; '{node.Name}' cannot set Layout");
                    return null;
                }
                if (node.Parsed.Arguments.FirstOrDefault(a => a.Name is "ScoreMod" or "MaskMod" && a.Text is not null) is { } mod)
                {
                    // Modifiers are compiled into single-kernel declarations only (docs/kernels/mods.md); never ignored silently.
                    Unsupported(mod.Location, $"{mod.Name} is not supported on graph attention nodes yet: declare the attention as a [ScaledDotProductAttention] kernel method to use it");
                    return null;
                }
                int before = diagnostics.Count;
                var settings = KernelAnalyzer.ValidateAttention(arguments, node.Parsed.Location, diagnostics, node.Kind);
                if (diagnostics.Count > before)
                    return null;
                int packed = (settings.Heads + 2 * settings.KvHeads) * settings.HeadDim;
                if (node.Kind == "ScaledDotProductAttention" && x.Features != packed)
                {
                    Mismatch(at, $"Attention '{node.Name}' reads packed [q | k | v] of (Heads + 2·KvHeads)·HeadDim = {packed} features, but '{x.Name}' has {x.Features}");
                    return null;
                }
                return new GraphValue(node.Name, node.Kind == "MultiHeadAttention" ? x.Features : settings.Heads * settings.HeadDim, false, false);
            }
            case "AttentionPooling":
                return node.Int("Hidden") is var hidden && (hidden == 0 || Positive("Hidden", hidden)) ? new GraphValue(node.Name, x.Features, true, false) : null;
            case "HierarchicalAttention":
                if (inputs.Count < 2 || !inputs[1].Value.IsOffsets)
                {
                    Unsupported(inputs.Count > 1 ? inputs[1].Location : node.Parsed.Location,
                        $"Segments of '{node.Name}' must name a Tensor<int> parameter of offsets [B, S + 1]");
                    return null;
                }
                return new GraphValue(node.Name, x.Features, true, false);
            case "SqueezeExcitation":
            {
                int reduction = node.Int("Reduction", 4);
                if (!Positive("Reduction", reduction))
                    return null;
                if (x.Features % reduction != 0)
                {
                    Mismatch(node.Where("Reduction"), $"Squeeze-excitation '{node.Name}': {x.Features} channels do not divide by Reduction = {reduction}");
                    return null;
                }
                return x with { Name = node.Name };
            }
            case "PositionalWeighting":
                return Positive("MaxLength", node.Int("MaxLength")) ? x with { Name = node.Name } : null;
            case "LayerwiseAdaptive":
                foreach (var (layer, layerAt) in inputs.Skip(1))
                {
                    if (layer.Features != x.Features || layer.Pooled != x.Pooled || layer.IsOffsets)
                    {
                        Mismatch(layerAt, $"Layer-wise mix '{node.Name}': '{layer.Name}' ({Describe(layer)}) differs from '{x.Name}' ({Describe(x)})");
                        return null;
                    }
                }
                return x with { Name = node.Name };
            default:
                Unsupported(node.Parsed.Location, $"Node kind [{node.Kind}] is not supported in a graph");
                return null;
        }
    }

    private static string Describe(GraphValue value) => value.IsOffsets ? "offsets" : value.Pooled ? $"[B, {value.Features}]" : $"[B, T, {value.Features}]";

    /// <summary>Builds the steps: expands MultiHeadAttention, fuses epilogues into Linear, lays out the weights.</summary>
    private sealed class Planner(Dictionary<string, GraphValue> values, IEnumerable<string> parameterNames,
        ILookup<string, Node> readers, List<DiagnosticInfo> diagnostics)
    {
        private readonly HashSet<string> _parameters = new(parameterNames, StringComparer.Ordinal);
        private readonly Dictionary<string, LinearStep> _pendingLinear = new(StringComparer.Ordinal);

        public List<ModelStep> Steps { get; } = [];
        public List<WeightDeclaration> Weights { get; } = [];
        public List<string> Notes { get; } = [];

        public void Add(Node node)
        {
            string input = node.Inputs.Count > 0 ? node.Inputs[0].Value : "";
            var x = values[input];
            var output = values[node.Name];
            switch (node.Kind)
            {
                case "Linear":
                    AddLinear(node.Name, input, x.Features, output.Features, node.Int("Bias", 1) != 0, node.Int("Activation"), x.Pooled);
                    break;
                case "Residual":
                    if (!TryFuse(node, input, node.Inputs[1].Value, fuse: (linear, other) => linear with { Output = node.Name, Residual = other },
                            what: "the residual add happens in the GEMM epilogue"))
                        Steps.Add(new AddStep(node.Name, input, node.Inputs[1].Value, output.Features, x.Pooled, $"{node.Name} = {input} + {node.Inputs[1].Value}"));
                    break;
                case "Gelu" or "Relu":
                {
                    int activation = node.Kind == "Gelu" ? ActivationGelu : ActivationRelu;
                    if (!TryFuse(node, input, null, fuse: (linear, _) => linear.Activation == ActivationNone ? linear with { Output = node.Name, Activation = activation } : null,
                            what: $"{node.Kind} is applied in the GEMM epilogue"))
                        Steps.Add(new ActivationStep(node.Name, input, output.Features, activation, x.Pooled, $"{node.Name} = {node.Kind}({input})"));
                    break;
                }
                case "LayerNorm" or "RmsNorm":
                {
                    bool rms = node.Kind == "RmsNorm";
                    int first = Weight(node.Name, "gamma", [x.Features], "scale γ");
                    if (!rms)
                        Weight(node.Name, "beta", [x.Features], "shift β");
                    Steps.Add(new NormStep(node.Name, input, x.Features, rms, node.Number("Epsilon", rms ? 1e-6 : 1e-5), x.Pooled,
                        $"{node.Name} = {node.Kind}({input}) over {x.Features} features", first));
                    break;
                }
                case "ScaledDotProductAttention":
                    AddAttention(node, node.Name, input);
                    break;
                case "MultiHeadAttention":
                {
                    var settings = Settings(node);
                    string qkv = node.Name + ".qkv", context = node.Name + ".attention";
                    AddLinear(qkv, input, x.Features, (settings.Heads + 2 * settings.KvHeads) * settings.HeadDim, bias: true, ActivationNone, pooled: false);
                    AddAttention(node, context, qkv);
                    // The output projection writes the node's value; its weights are '{name}.out', as the attribute's docs say.
                    AddLinear(node.Name, context, settings.Heads * settings.HeadDim, x.Features, bias: true, ActivationNone, pooled: false,
                        weightNode: node.Name + ".out");
                    Notes.Add($"'{node.Name}' expands to {qkv} (QKV projection) → {context} (fused attention) → {node.Name} (output projection, weights {node.Name}.out).");
                    break;
                }
                case "AttentionPooling":
                {
                    int hidden = node.Int("Hidden");
                    int first = PoolingWeights(node.Name, "", x.Features, hidden);
                    Steps.Add(new PoolingStep(node.Name, input, x.Features, hidden,
                        $"{node.Name} = Σ_t softmax_t(score(x_t))·x_t over {input}, one streaming pass", first));
                    break;
                }
                case "HierarchicalAttention":
                {
                    int wordHidden = node.Int("WordHidden"), segmentHidden = node.Int("SegmentHidden");
                    int first = PoolingWeights(node.Name, "word.", x.Features, wordHidden);
                    PoolingWeights(node.Name, "segment.", x.Features, segmentHidden);
                    Steps.Add(new HierarchicalStep(node.Name, input, node.Inputs[1].Value, x.Features, wordHidden, segmentHidden,
                        $"{node.Name} = pool over segments of (pool within each segment of {input})", first));
                    break;
                }
                case "SqueezeExcitation":
                {
                    int reduced = x.Features / node.Int("Reduction", 4);
                    int first = Weight(node.Name, "w1", [reduced, x.Features], "squeeze FC");
                    Weight(node.Name, "b1", [reduced], "squeeze bias");
                    Weight(node.Name, "w2", [x.Features, reduced], "excite FC");
                    Weight(node.Name, "b2", [x.Features], "excite bias");
                    Steps.Add(new SqueezeStep(node.Name, input, x.Features, reduced,
                        $"{node.Name} = {input}·sigmoid(FC(ReLU(FC(mean_t {input})))), two passes", first));
                    break;
                }
                case "PositionalWeighting":
                {
                    int maxLength = node.Int("MaxLength");
                    int first = Weight(node.Name, "p", [maxLength, x.Features], "per-position weights");
                    Steps.Add(new PositionalStep(node.Name, input, x.Features, maxLength, $"{node.Name} = {input}·(1 + p[t])", first));
                    break;
                }
                case "LayerwiseAdaptive":
                {
                    var layers = node.Inputs.Select(i => i.Value).ToEquatableArray();
                    int first = Weight(node.Name, "logits", [layers.Count], "mixing logits");
                    Weight(node.Name, "gamma", [1], "scale γ");
                    Steps.Add(new MixStep(node.Name, layers, x.Features, x.Pooled,
                        $"{node.Name} = γ·Σ softmax(logits)_l·{{{string.Join(", ", layers)}}}", first));
                    break;
                }
            }
        }

        private static KernelAnalyzer.AttentionSettings Settings(Node node) =>
            KernelAnalyzer.ValidateAttention(node.Parsed.Arguments.Where(a => a.Number is not null).ToDictionary(a => a.Name, a => (a.Number!.Value, a.Location)),
                node.Parsed.Location, []);

        private void AddAttention(Node node, string output, string packed)
        {
            var s = Settings(node);
            Steps.Add(new AttentionStep(output, packed, s.HeadDim, s.Heads, s.KvHeads, s.Mask, s.Window, s.Scale,
                $"{output} = attention({packed}): {s.Heads} heads (KV {s.KvHeads}) of {s.HeadDim}, {s.Mask} mask, heads read in place from the packed projection"));
        }

        private void AddLinear(string name, string input, int inFeatures, int outFeatures, bool bias, int activation, bool pooled,
            string? weightNode = null)
        {
            int first = Weight(weightNode ?? name, "weight", [outFeatures, inFeatures], "W, [out, in]");
            if (bias)
                Weight(weightNode ?? name, "bias", [outFeatures], "b");
            string act = activation switch { ActivationGelu => "GELU", ActivationRelu => "ReLU", _ => "" };
            var step = new LinearStep(name, input, inFeatures, outFeatures, bias, activation, null, pooled,
                $"{name} = {(act.Length > 0 ? act + "(" : "")}{input}·Wᵀ{(bias ? " + b" : "")}{(act.Length > 0 ? ")" : "")} ({inFeatures} → {outFeatures})", first);
            Steps.Add(step);
            _pendingLinear[name] = step;
        }

        /// <summary>
        /// Folds this node into the Linear that produced <paramref name="input"/> if that Linear is read by this node only
        /// and is not a graph output; otherwise reports AK0108 saying why.
        /// </summary>
        private bool TryFuse(Node node, string input, string? other, Func<LinearStep, string?, LinearStep?> fuse, string what)
        {
            // For a residual, either operand may be the Linear.
            var operands = other is null
                ? new (string Candidate, string? Other)[] { (input, null) }
                : new (string Candidate, string? Other)[] { (input, other), (other, input) };
            foreach (var (candidate, rest) in operands)
            {
                if (!_pendingLinear.TryGetValue(candidate, out var linear) || linear.Residual is not null)
                    continue;
                if (_parameters.Contains(candidate) || readers[candidate].Count() != 1)
                    continue;
                var fused = fuse(linear, rest);
                if (fused is null)
                    continue;
                int index = Steps.IndexOf(linear);
                Steps[index] = fused with { Explanation = linear.Explanation + $", then {node.Name} ({node.Kind}) fused: {what}" };
                _pendingLinear.Remove(candidate);
                _pendingLinear[node.Name] = (LinearStep)Steps[index];
                Notes.Add($"'{candidate}' + '{node.Name}' fused: {what}.");
                return true;
            }
            string reason = new[] { input, other }.Where(v => v is not null).Select(v => v!).FirstOrDefault(_pendingLinear.ContainsKey) is { } producer
                ? (_parameters.Contains(producer) ? $"'{producer}' is a graph output" : $"'{producer}' is also read by {string.Join(", ", readers[producer].Select(r => $"'{r.Name}'").Where(r => r != $"'{node.Name}'"))}")
                : $"no operand is produced by a Linear it could extend";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotFused, node.Parsed.Location, node.Name, reason));
            Notes.Add($"'{node.Name}' runs unfused: {reason}.");
            return false;
        }

        private int PoolingWeights(string node, string prefix, int features, int hidden)
        {
            if (hidden == 0)
                return Weight(node, prefix + "u", [features], "scoring vector");
            int first = Weight(node, prefix + "w", [hidden, features], "scoring layer W");
            Weight(node, prefix + "b", [hidden], "scoring layer b");
            Weight(node, prefix + "u", [hidden], "scoring vector");
            return first;
        }

        private int Weight(string node, string name, int[] shape, string description)
        {
            Weights.Add(new WeightDeclaration(node, name, shape.ToEquatableArray(), description));
            return Weights.Count - 1;
        }
    }
}

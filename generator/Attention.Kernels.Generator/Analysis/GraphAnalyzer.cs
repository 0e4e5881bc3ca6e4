using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Model;
using Attention.Kernels.Generator.Nodes;
using Attention.Kernels.Generator.Parsing;

namespace Attention.Kernels.Generator.Analysis;

/// <summary>
/// Turns a parsed graph method into a plan: resolve names, reject cycles, infer shapes, check every connection,
/// expand convenience nodes, fuse what can be fused (saying why not otherwise), and lay out the weights.
/// </summary>
internal static class GraphAnalyzer
{
    public const int ActivationNone = 0, ActivationRelu = 1, ActivationGelu = 2;

    /// <summary>The largest feature count (and hidden size, output width, positional length) a graph takes: 2^20.</summary>
    public const int MaxFeatures = 1 << 20;

    /// <summary>A node after name resolution: what it reads, with the location to blame for each input.</summary>
    internal sealed class Node(ParsedNode parsed, int order)
    {
        public ParsedNode Parsed { get; } = parsed;
        public int Order { get; } = order;
        public string Name => Parsed.Name;
        public string Kind => Parsed.Kind;
        public List<(string Value, LocationInfo? Location, string Role)> Inputs { get; } = [];
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
        // The tensors the nodes' modifiers read, by parameter name: a float one needs no [Features] (its shape is the modifier's).
        var modTensorNames = new HashSet<string>(parsed.Nodes.SelectMany(n => n.Mods).Where(m => m.Status == ModStatus.Valid)
            .SelectMany(m => m.Tensors).Select(t => t.Name), StringComparer.Ordinal);
        // So do attention nodes' attnMasks (their shape broadcasts to [B, H, T, T]).
        modTensorNames.UnionWith(parsed.Nodes.Select(n => n.Arguments.FirstOrDefault(a => a.Name == NodeKind.AttnMaskRole)?.Text?.Trim())
            .Where(n => !string.IsNullOrEmpty(n)).Select(n => n!));
        foreach (var parameter in parsed.Parameters)
        {
            if (parameter.Kind == ParameterKind.Other)
            {
                Report(DiagnosticDescriptors.UnsupportedCombination, parameter.Location, $"Graph parameter '{parameter.Name}' must be a by-value Tensor<float> (or Tensor<int> for segment offsets, Tensor<bool> for an attention mask), not {parameter.Type}");
                continue;
            }
            if (byName.ContainsKey(parameter.Name))
            {
                if (parameter.Kind == ParameterKind.BoolTensor)
                    Report(DiagnosticDescriptors.UnsupportedCombination, parameter.Location, $"Graph output '{parameter.Name}' must be a Tensor<float>, not {parameter.Type}");
                continue; // an output
            }
            if (parameter.Kind == ParameterKind.BoolTensor)
            {
                values[parameter.Name] = new GraphValue(parameter.Name, 0, false, IntRole.None, AnyShape: true, IsBool: true);
            }
            else if (parameter.Kind == ParameterKind.IntTensor)
            {
                values[parameter.Name] = new GraphValue(parameter.Name, 0, false, IntRole.Unassigned); // its readers give it a role below
            }
            else if (parameter.Features == 0 && modTensorNames.Contains(parameter.Name))
            {
                values[parameter.Name] = new GraphValue(parameter.Name, 0, false, IntRole.None, AnyShape: true);
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
                values[parameter.Name] = new GraphValue(parameter.Name, parameter.Features, false, IntRole.None);
            }
            inputs.Add(values[parameter.Name]);
        }

        // 2. What each node reads.
        foreach (var node in nodes)
        {
            if (!NodeKinds.All.TryGetValue(node.Kind, out var kind))
                continue; // reported by the shape rule below
            foreach (string role in kind.InputRoles.Concat(kind.OptionalRoles))
            {
                var argument = node.Argument(role);
                if (string.IsNullOrWhiteSpace(argument?.Text))
                {
                    if (!kind.OptionalRoles.Contains(role))
                        Report(DiagnosticDescriptors.UnsupportedCombination, node.Parsed.Location, $"Node '{node.Name}' needs {role} = \"value name\"");
                    continue;
                }
                var names = kind.ListInput && role == "From"
                    ? argument!.Text!.Split(',').Select(n => n.Trim()).Where(n => n.Length > 0)
                    : [argument!.Text!.Trim()];
                foreach (string name in names)
                {
                    if (!byName.ContainsKey(name) && !parameters.ContainsKey(name))
                        Report(DiagnosticDescriptors.UnknownValue, argument.Location, name, method.Name);
                    else
                        node.Inputs.Add((name, argument.Location, role));
                }
            }
            // The tensors its modifiers read: inputs of the graph named like the modifier's parameters (docs/kernels/mods.md).
            foreach (var mod in node.Parsed.Mods.Where(m => m.Status == ModStatus.Valid))
            {
                foreach (var tensor in mod.Tensors.Where(t => t.Kind != ModTensorKind.Unsupported))
                {
                    string? why = !parameters.ContainsKey(tensor.Name) ? (byName.ContainsKey(tensor.Name) ? "is a node's value, not a parameter" : "is not a parameter")
                        : byName.ContainsKey(tensor.Name) ? "is an output (a node of that name writes it)" : null;
                    if (why is not null)
                        Report(DiagnosticDescriptors.GraphModTensorNotInput, mod.Location, mod.Argument, mod.Method, node.Name, tensor.Name, why, method.Name);
                    else if (!node.Inputs.Any(i => i.Value == tensor.Name && i.Role == NodeKind.ModTensorRole))
                        node.Inputs.Add((tensor.Name, mod.Location, NodeKind.ModTensorRole));
                }
            }
        }

        // An int parameter holds what the nodes reading it say (offsets, ids or padding): one role per parameter.
        foreach (var parameter in parsed.Parameters.Where(p => p.Kind == ParameterKind.IntTensor && values.ContainsKey(p.Name)))
        {
            var uses = nodes.SelectMany(n => n.Inputs.Where(i => i.Value == parameter.Name)
                    .Select(i => (Node: n, i.Role, i.Location, Int: NodeKinds.All[n.Kind].IntInput(i.Role))))
                .Where(u => u.Int is not null).ToList();
            if (uses.Count == 0)
                continue; // read as floats (reported by the shape rule) or never read (AK0105)
            var first = uses[0];
            if (uses.FirstOrDefault(u => u.Int != first.Int) is { Node: not null } other)
                Report(DiagnosticDescriptors.IntRoleConflict, other.Location, parameter.Name, ShapeContext.RoleText(first.Int!.Value), first.Node.Name,
                    ShapeContext.RoleText(other.Int!.Value), other.Node.Name);
            values[parameter.Name] = values[parameter.Name] with { Int = first.Int!.Value, AnyShape = first.Int == IntRole.ModTensor };
            inputs[inputs.FindIndex(i => i.Name == parameter.Name)] = values[parameter.Name];
        }

        // 3. Order: dependencies first, source order otherwise. Whatever cannot be ordered is a cycle.
        var order = TopologicalOrder(nodes, byName, out var cyclic);
        if (cyclic.Count > 0)
            Report(DiagnosticDescriptors.Cycle, cyclic[0].Parsed.Location, string.Join(" → ", cyclic.Select(n => $"'{n.Name}'")));

        // 4. Shapes, in order.
        foreach (var node in order)
        {
            var inputValues = node.Inputs.Select(i => (Value: values.TryGetValue(i.Value, out var v) ? v : null, i.Location, i.Role)).ToList();
            if (inputValues.Any(i => i.Value is null))
                continue; // an input that failed earlier was reported there
            node.Output = InferShape(node, inputValues.Select(i => (i.Value!, i.Location, i.Role)).ToList(), diagnostics);
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
        string declaringType = "global::" + string.Join(".", (parsed.Namespace is null ? Enumerable.Empty<string>() : [parsed.Namespace])
            .Concat(parsed.ContainingTypes.Select(t => t.Name)));
        var plan = new Planner(values, parameters.Keys, readers, diagnostics, declaringType);
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
    private static GraphValue? InferShape(Node node, List<(GraphValue Value, LocationInfo? Location, string Role)> inputs, List<DiagnosticInfo> diagnostics)
    {
        if (!NodeKinds.All.TryGetValue(node.Kind, out var kind))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedCombination, node.Parsed.Location, $"Node kind [{node.Kind}] is not supported in a graph"));
            return null;
        }
        if (inputs.Count == 0)
            return null;
        // Int tensors go only where the kind reads them, float values everywhere else (AK0112).
        foreach (var (value, at, role) in inputs)
        {
            // A modifier's tensor is int or float, any shape: the attention kind checks its element type (AK0032).
            if (role == NodeKind.ModTensorRole)
                continue;
            if (role == NodeKind.AttnMaskRole)
            {
                // PyTorch's attn_mask: boolean or additive, broadcast to [B, H, T, T]; a [B, T, F] value or ints are no mask.
                if (!value.AnyShape || value.IsInt)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WrongValueKind, at, role, node.Name,
                        "a Tensor<bool> or Tensor<float> parameter without [Features] (broadcast to [B, H, T, T])", value.Name, ShapeContext.Describe(value)));
                    return null;
                }
                continue;
            }
            if (value.AnyShape && !value.IsInt)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WrongValueKind, at, role, node.Name,
                    "a Tensor<float> value with [Features]", value.Name, ShapeContext.Describe(value)));
                return null;
            }
            var wanted = kind.IntInput(role);
            if ((wanted ?? IntRole.None) != value.Int)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WrongValueKind, at, role, node.Name,
                    wanted is { } w ? $"a Tensor<int> parameter of {ShapeContext.RoleText(w)}" : "a Tensor<float> value", value.Name, ShapeContext.Describe(value)));
                return null;
            }
        }
        var (x, xAt, _) = inputs[0];
        if (x.Pooled && !kind.AcceptsPooled)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedCombination, xAt,
                $"Node '{node.Name}' ({node.Kind}) needs a [B, T, F] sequence, but '{x.Name}' is pooled to [B, {x.Features}]"));
            return null;
        }
        return kind.Shape(new ShapeContext(node, inputs.Select(i => (i.Value, i.Location)).ToList(), diagnostics));
    }

    /// <summary>Builds the steps: each node kind plans its own (Nodes/), with the shared helpers here: weights, Linear and epilogue fusion.</summary>
    internal sealed class Planner(Dictionary<string, GraphValue> values, IEnumerable<string> parameterNames,
        ILookup<string, Node> readers, List<DiagnosticInfo> diagnostics, string declaringType)
    {
        /// <summary>The model class as generated code names it (global::Namespace.Outer.Model), for calls to its methods.</summary>
        public string DeclaringType { get; } = declaringType;

        private readonly HashSet<string> _parameters = new(parameterNames, StringComparer.Ordinal);
        private readonly Dictionary<string, LinearStep> _pendingLinear = new(StringComparer.Ordinal);

        public List<ModelStep> Steps { get; } = [];
        public List<WeightDeclaration> Weights { get; } = [];
        public List<string> Notes { get; } = [];

        public void Add(Node node) => NodeKinds.All[node.Kind].Plan(node, this);

        /// <summary>The node's main input (the value its first role names).</summary>
        public GraphValue Input(Node node) => values[node.Inputs[0].Value];

        /// <summary>The node's output, as its shape rule inferred it.</summary>
        public GraphValue Output(Node node) => values[node.Name];

        /// <summary>A value by name.</summary>
        public GraphValue Value(string name) => values[name];

        public void AddLinear(string name, string input, int inFeatures, int outFeatures, bool bias, int activation, bool pooled,
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
        public bool TryFuse(Node node, string input, string? other, Func<LinearStep, string?, LinearStep?> fuse, string what)
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

        public int Weight(string node, string name, int[] shape, string description)
        {
            Weights.Add(new WeightDeclaration(node, name, shape.ToEquatableArray(), description));
            return Weights.Count - 1;
        }
    }
}

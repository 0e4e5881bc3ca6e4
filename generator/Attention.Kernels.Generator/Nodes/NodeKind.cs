using System;
using System.Collections.Generic;
using System.Linq;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Nodes;

/// <summary>
/// One node kind of an [AttentionModel] graph, described in one place: the values it reads (<see cref="InputRoles"/>),
/// its shape rule (<see cref="Shape"/>), and its plan (<see cref="Plan"/>: the steps it becomes, the weights it owns and
/// what it fuses into). The steps it plans are <see cref="ModelStep"/> records that write their own launch and cost
/// (<see cref="ModelStep.WriteRun"/>, <see cref="ModelStep.Cost"/>). The analyzer and emitter are generic over kinds.
/// </summary>
internal abstract class NodeKind(string name)
{
    /// <summary>The attribute's name without "Attribute" (the kind's name in messages and in <see cref="NodeKinds.All"/>).</summary>
    public string Name { get; } = name;

    /// <summary>The arguments that name values the node reads; the first is the main input.</summary>
    public virtual IReadOnlyList<string> InputRoles { get; } = ["From"];

    /// <summary>Arguments that may name a value the node reads; absent, the node does without.</summary>
    public virtual IReadOnlyList<string> OptionalRoles { get; } = [];

    /// <summary>Whether <c>From</c> lists several values (comma-separated).</summary>
    public virtual bool ListInput => false;

    /// <summary>Whether the main input may be pooled ([B, F]); otherwise it must be a sequence [B, T, F].</summary>
    public virtual bool AcceptsPooled => false;

    /// <summary>
    /// The role of a tensor a node's modifier reads (its name is the modifier parameter's, not an attribute argument's):
    /// int or float, any shape. Only attention nodes have modifiers.
    /// </summary>
    public const string ModTensorRole = "ModTensor";

    /// <summary>
    /// An attention node's attnMask (docs/kernels/masks.md): a Tensor&lt;bool&gt; or Tensor&lt;float&gt; parameter without
    /// [Features], broadcast to [B, H, T, T]; checked by <c>GraphAnalyzer.InferShape</c>, not by <see cref="IntInput"/>.
    /// </summary>
    public const string AttnMaskRole = "AttnMask";

    /// <summary>What an int tensor read in <paramref name="role"/> holds, or null if the role needs a float value.</summary>
    public virtual IntRole? IntInput(string role) => null;

    /// <summary>The output shape from the inputs (already resolved and checked against <see cref="AcceptsPooled"/> and <see cref="IntInput"/>), or null after reporting why not.</summary>
    public abstract GraphValue? Shape(ShapeContext c);

    /// <summary>Adds the node's steps and weights to the plan.</summary>
    public abstract void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan);
}

/// <summary>The kinds, by attribute name: adding a kind is one class here and its attribute in the runtime.</summary>
internal static class NodeKinds
{
    public static readonly IReadOnlyDictionary<string, NodeKind> All = new NodeKind[]
    {
        new LinearKind(), new ResidualKind(), new NormKind("LayerNorm"), new NormKind("RmsNorm"),
        new ActivationKind("Gelu"), new ActivationKind("Relu"),
        new AttentionKind("ScaledDotProductAttention"), new AttentionKind("MultiHeadAttention"),
        new AttentionPoolingKind(), new HierarchicalAttentionKind(), new SqueezeExcitationKind(), new PositionalWeightingKind(),
        new LayerwiseAdaptiveKind(), new EmbeddingKind(), new MeanPoolingKind(), new L2NormalizeKind(),
    }.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The node attributes that only mean something inside an [AttentionModel] class (attention only when named).</summary>
    public static IEnumerable<string> AttributeNames => All.Keys;
}

/// <summary>A shape rule's view of one node: its resolved inputs and the diagnostics it may report.</summary>
internal sealed class ShapeContext(GraphAnalyzer.Node node, List<(GraphValue Value, LocationInfo? Location)> inputs, List<DiagnosticInfo> diagnostics)
{
    public GraphAnalyzer.Node Node { get; } = node;
    public List<(GraphValue Value, LocationInfo? Location)> Inputs { get; } = inputs;
    public List<DiagnosticInfo> Diagnostics { get; } = diagnostics;

    /// <summary>The main input and where it was named.</summary>
    public GraphValue X => Inputs[0].Value;
    public LocationInfo? At => Inputs[0].Location;

    public void Mismatch(LocationInfo? at, string message) => Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DimensionMismatch, at, message));
    public void Unsupported(LocationInfo? at, string message) => Diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedCombination, at, message));
    public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo? at, params object?[] args) =>
        Diagnostics.Add(DiagnosticInfo.Create(descriptor, at, args));

    /// <summary>True if the argument is in (0, <see cref="GraphAnalyzer.MaxFeatures"/>]; AK0014/AK0015 at it otherwise.</summary>
    public bool Positive(string name, int value)
    {
        if (value > GraphAnalyzer.MaxFeatures)
        {
            Report(DiagnosticDescriptors.ValueTooLarge, Node.Where(name), name, value, GraphAnalyzer.MaxFeatures);
            return false;
        }
        if (value > 0)
            return true;
        Report(DiagnosticDescriptors.NotPositive, Node.Where(name), name, value);
        return false;
    }

    /// <summary>The node's output: the main input's form under the node's name.</summary>
    public GraphValue SameAsInput() => X with { Name = Node.Name };

    public static string Describe(GraphValue value) => value.IsBool ? "a Tensor<bool> (an attention mask)" :
        value.AnyShape ? $"a Tensor<{(value.IsInt ? "int" : "float")}> without [Features] (read by a modifier or as an attnMask: any shape)" : value.IsInt ? $"a Tensor<int> of {RoleText(value.Int)}" : value.Pooled ? $"[B, {value.Features}]" : $"[B, T, {value.Features}]";

    /// <summary>What an int role holds, for messages.</summary>
    public static string RoleText(IntRole role) => role switch
    {
        IntRole.Offsets => "segment offsets [B, S + 1]",
        IntRole.Ids => "token ids [B, T]",
        IntRole.Padding => "padding (an attention mask [B, T] or lengths [B])",
        IntRole.Unassigned => "ints",
        IntRole.Documents => "document ids [B, T]",
        IntRole.Prefix => "prefix lengths [B]",
        IntRole.ModTensor => "a tensor read by a modifier",
        _ => "floats",
    };
}

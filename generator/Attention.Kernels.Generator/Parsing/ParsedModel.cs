using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Parsing;

/// <summary>The facts read off one graph method of an [AttentionModel] class, before any judgement.</summary>
internal sealed record ParsedModel(
    string TypeKey,
    string? Namespace,
    EquatableArray<ContainingTypeInfo> ContainingTypes,
    EquatableArray<string> NonPartialTypes,
    ParsedMethod Method,
    EquatableArray<ParsedGraphParameter> Parameters,
    EquatableArray<ParsedNode> Nodes,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>What a graph parameter holds.</summary>
internal enum ParameterKind
{
    FloatTensor,
    IntTensor,

    /// <summary>A Tensor&lt;bool&gt;: only an attention node's boolean attnMask reads one.</summary>
    BoolTensor,
    Other,
}

/// <summary>A parameter of a graph method: its declared type, tensor kind and [Features(n)] (0 when absent).</summary>
internal sealed record ParsedGraphParameter(string Name, string Type, ParameterKind Kind, int Features, LocationInfo? Location);

/// <summary>
/// One node attribute: its kind (the attribute's name without "Attribute"), node name and named arguments, and for an
/// attention node its score/mask modifiers as the parser found them in the model class.
/// </summary>
internal sealed record ParsedNode(string Kind, string Name, EquatableArray<NodeArgument> Arguments, LocationInfo? Location,
    EquatableArray<ParsedMod> Mods = default);

/// <summary>A named argument of a node attribute: a string (names of values) or a number (ints, doubles, enums, bools).</summary>
internal sealed record NodeArgument(string Name, string? Text, double? Number, LocationInfo? Location);

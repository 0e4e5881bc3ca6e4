using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Parsing;

/// <summary>
/// The facts the parser read off one annotated method, before any judgement: the analysis step decides
/// what is valid. Everything that needs symbols (types, modifiers) is resolved here into plain data.
/// </summary>
internal sealed record ParsedKernel(
    string AttributeName,
    string TypeKey,
    string? Namespace,
    EquatableArray<ContainingTypeInfo> ContainingTypes,
    EquatableArray<string> NonPartialTypes,
    ParsedMethod Method,
    EquatableArray<ParsedParameter> Parameters,
    EquatableArray<AttributeArgument> Arguments,
    LocationInfo? AttributeLocation,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<ParsedMod> Mods = default);

/// <summary>What the parser found for a modifier argument's method.</summary>
internal enum ModStatus
{
    /// <summary>A static, non-generic method of the declaring type with exactly the modifier's signature.</summary>
    Valid,

    /// <summary>No method of that name is declared in the declaring type.</summary>
    NotFound,

    /// <summary>Methods of that name exist, but none is static, non-generic and of the modifier's signature.</summary>
    WrongSignature,
}

/// <summary>
/// A <c>ScoreMod</c> or <c>MaskMod</c> argument: the method name it gives, what the parser found (judged with symbols
/// here, kept as data), and where the argument was written.
/// </summary>
/// <param name="Argument">"ScoreMod" or "MaskMod".</param>
/// <param name="TypeName">The declaring type's name, for the diagnostics.</param>
/// <param name="Tensors">The parameters after <c>key</c> of the method found (a valid one): the tensors it reads.</param>
internal sealed record ParsedMod(string Argument, string Method, ModStatus Status, string TypeName, LocationInfo? Location,
    EquatableArray<ParsedModTensor> Tensors = default);

/// <summary>How a modifier parameter after <c>key</c> reads a tensor.</summary>
internal enum ModTensorKind
{
    /// <summary>A type parameter of the method constrained to <c>IModTensor&lt;int&gt;</c>.</summary>
    Int,

    /// <summary>A type parameter of the method constrained to <c>IModTensor&lt;float&gt;</c>.</summary>
    Float,

    /// <summary>Anything else (a span, an array, a tensor, a by-ref parameter…): AK0033.</summary>
    Unsupported,
}

/// <summary>A modifier parameter after <c>key</c>: its name (the trailing tensor it reads), kind and declared type (for messages).</summary>
internal sealed record ParsedModTensor(string Name, ModTensorKind Kind, string Type);

/// <summary>The method's shape.</summary>
/// <param name="ReturnType">The declared return type, fully qualified (with <c>ref </c> for a by-ref return).</param>
/// <param name="BodyLocation">Where the user wrote a body for this partial method (its implementing declaration), if they did.</param>
internal sealed record ParsedMethod(
    string Name,
    string Modifiers,
    bool IsStatic,
    bool IsPartialDefinition,
    bool ReturnsVoid,
    bool IsGeneric,
    LocationInfo? Location,
    LocationInfo? ParameterListLocation,
    string ReturnType = "void",
    LocationInfo? BodyLocation = null);

/// <summary>
/// One parameter: its declared type, and the element type when it is a by-value <c>Tensor&lt;float&gt;</c>,
/// <c>Tensor&lt;Half&gt;</c> or <c>Tensor&lt;BFloat16&gt;</c> (null for anything else).
/// </summary>
/// <param name="IsIntTensor">True for a by-value <c>Tensor&lt;int&gt;</c> (lengths, offsets).</param>
/// <param name="IsBoolTensor">True for a by-value <c>Tensor&lt;bool&gt;</c> (a boolean attention mask).</param>
internal sealed record ParsedParameter(string Name, string Type, ElementType? TensorElement, LocationInfo? Location, bool IsIntTensor = false,
    bool IsBoolTensor = false);

/// <summary>A named attribute argument: its numeric value (enums as their integer) and where it was written.</summary>
internal sealed record AttributeArgument(string Name, double Value, LocationInfo? Location);

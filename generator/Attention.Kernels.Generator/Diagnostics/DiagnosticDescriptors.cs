using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Attention.Kernels.Generator.Diagnostics;

/// <summary>Every diagnostic the generator reports. Each ID has a page at docs/diagnostics/ID.md.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Attention.Kernels";
    private const string HelpRoot = "https://github.com/attention-kernels/attention-kernels/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor MethodShape = Error("AK0001",
        "Kernel method must be a non-generic 'static partial void' method",
        "'{0}' must be declared as a non-generic 'static partial void {0}(q, k, v, output[, logSumExp])' method to carry [{1}]");

    public static readonly DiagnosticDescriptor TypeNotPartial = Error("AK0002",
        "Containing type must be partial",
        "Type '{0}' must be declared 'partial' so the generator can add the body of '{1}'");

    public static readonly DiagnosticDescriptor ParameterCount = Error("AK0003",
        "Wrong number of kernel parameters",
        "'{0}' has {1} parameter(s); expected {2}");

    public static readonly DiagnosticDescriptor ParameterType = Error("AK0004",
        "Kernel parameter has the wrong type",
        "Parameter '{0}' must be of type {1}, not {2}");

    public static readonly DiagnosticDescriptor ParameterName = Error("AK0005",
        "Kernel parameter has the wrong name",
        "Kernel parameters must be named ({0}), not ({1}){2}");

    public static readonly DiagnosticDescriptor HeadDimOutOfRange = Error("AK0006",
        "Head dimension out of the supported range",
        "HeadDim = {0} is outside the supported range {1}–{2}");

    public static readonly DiagnosticDescriptor HeadsNotDivisible = Error("AK0007",
        "Heads must be a multiple of KvHeads",
        "Heads = {0} is not a multiple of KvHeads = {1}; each key/value head must serve the same number of query heads");

    public static readonly DiagnosticDescriptor NotPositive = Error("AK0008",
        "Value must be positive",
        "{0} must be a positive integer, but is {1}");

    public static readonly DiagnosticDescriptor WindowWithoutWindowMask = Error("AK0009",
        "Window given with a mask that takes none",
        "Window = {0} has no effect with Mask = {1}; use Mask = AttentionMask.SlidingWindow or remove Window");

    public static readonly DiagnosticDescriptor SlidingWindowWithoutWindow = Error("AK0010",
        "Sliding-window mask without a window size",
        "Mask = AttentionMask.SlidingWindow needs Window > 0 (the number of keys each query sees)");

    public static readonly DiagnosticDescriptor UnsupportedLayout = Error("AK0011",
        "Unsupported tensor layout",
        "Layout value {0} is not supported; use TensorLayout.BTHD or TensorLayout.BHTD");

    public static readonly DiagnosticDescriptor UnsupportedMask = Error("AK0012",
        "Unsupported mask kind",
        "Mask value {0} is not supported; use AttentionMask.None, Causal, CausalTopLeft or SlidingWindow");

    public static readonly DiagnosticDescriptor InvalidScale = Error("AK0013",
        "Scale must be finite and positive",
        "Scale = {0} is not a finite positive number (leave it 0 for 1/sqrt(HeadDim))");

    public static readonly DiagnosticDescriptor UnsafeBlocksRequired = Error("AK0014",
        "Generated kernels need unsafe code",
        "'{0}' needs unsafe code in the generated kernel; set <AllowUnsafeBlocks>true</AllowUnsafeBlocks> in the project file");

    public static readonly DiagnosticDescriptor ValueTooLarge = Error("AK0015",
        "Value too large",
        "{0} = {1} exceeds the supported maximum of {2}");

    public static readonly DiagnosticDescriptor MixedElementTypes = Error("AK0016",
        "Kernel tensors have different element types",
        "Parameter '{0}' is {1} but '{2}' is {3}: q, k, v and output must share one element type (float, Half or BFloat16)");

    public static readonly DiagnosticDescriptor DuplicateAttention = Error("AK0017",
        "Method carries more than one attention attribute",
        "'{0}' already carries a [{1}]; a kernel method takes exactly one, so this one would be ignored: remove it or declare a second method");

    public static readonly DiagnosticDescriptor BodyWritten = Error("AK0018",
        "Generated method already has a body",
        "'{0}' has a body written in source, but its body is generated from {1}; remove that body and keep only the declaration ending in ';'");

    public static readonly DiagnosticDescriptor LocalFunction = Error("AK0019",
        "Attribute on a local function",
        "[{0}] on a local function does nothing: declare the {1} on a partial method of a partial type");

    public static readonly DiagnosticDescriptor RequiredArgument = Error("AK0020",
        "Required argument missing",
        "{0} is required: add {0} = <positive integer> ({1}) to [{2}]");

    public static readonly DiagnosticDescriptor ModNotFound = Error("AK0021",
        "Modifier method not found",
        "{0} = \"{1}\" names no method of '{2}': declare '{3}' in '{2}'");

    public static readonly DiagnosticDescriptor ModSignature = Error("AK0022",
        "Modifier method has the wrong signature",
        "{0} method '{1}' must be declared '{2}' (static, by-value parameters; their names are free; it may add, after key, one parameter per tensor it reads, of a type parameter constrained to IModTensor<int> or IModTensor<float>)");

    public static readonly DiagnosticDescriptor VarlenOffsetMissing = Error("AK0023",
        "Packed variable-length kernel needs both offsets",
        "'{0}' is declared without '{1}': a packed variable-length kernel takes the offsets of the queries and of the keys (queryOffsets, keyOffsets)");

    public static readonly DiagnosticDescriptor VarlenWithKeyLengths = Error("AK0024",
        "Key lengths with packed variable-length offsets",
        "'keyLengths' cannot be combined with queryOffsets and keyOffsets: each packed sequence already has its own key length (keyOffsets[b + 1] − keyOffsets[b])");

    public static readonly DiagnosticDescriptor VarlenLayout = Error("AK0025",
        "Packed variable-length kernel needs the BTHD layout",
        "Layout = TensorLayout.{0} cannot be packed by sequence: a kernel with queryOffsets and keyOffsets takes token-major q, k, v [Total, H, D] (TensorLayout.BTHD, the default)");

    public static readonly DiagnosticDescriptor InvalidSoftCap = Error("AK0027",
        "SoftCap must be finite and positive",
        "SoftCap = {0} is not a finite positive number (the scores become SoftCap·tanh(score / SoftCap); leave it 0 for no capping)");

    public static readonly DiagnosticDescriptor PrefixLmWithMask = Error("AK0028",
        "Prefix-LM with a built-in mask",
        "'prefixLengths' makes this a prefix-LM kernel (key k visible from query q iff k < prefix or k ≤ q), which is its own causal mask; remove Mask = AttentionMask.{0}");

    public static readonly DiagnosticDescriptor BuiltInMaskWithVarlen = Error("AK0029",
        "Document or prefix-LM mask with packed variable-length offsets",
        "'{0}' cannot be combined with queryOffsets and keyOffsets: a packed batch already attends within each sequence, and its tensors have no [B, T] axes (use a MaskMod, which sees the sequence and sequence-local positions)");

    public static readonly DiagnosticDescriptor KeyPaddingOnDeclaration = Error("AK0030",
        "Graph-only argument on a kernel declaration",
        "{1} names a value of an [AttentionModel] graph; on the kernel declaration '{0}' declare a trailing '{2}' parameter instead");

    public static readonly DiagnosticDescriptor ModTensorNotDeclared = Error("AK0031",
        "Modifier reads a tensor the kernel does not declare",
        "{0} method '{1}' reads '{2}', which is not a tensor parameter of '{3}' after its standard parameters: declare a trailing 'Tensor<int> {2}' or 'Tensor<float> {2}' parameter (its trailing tensors now: {4})");

    public static readonly DiagnosticDescriptor ModTensorElementType = Error("AK0032",
        "Modifier tensor of the wrong element type",
        "'{0}' is declared '{1}', but {2} method '{3}' reads it as IModTensor<{4}>: declare it 'Tensor<{4}>'");

    public static readonly DiagnosticDescriptor ModTensorParameterType = Error("AK0033",
        "Modifier parameter of an unsupported type",
        "{0} method '{1}' parameter '{2}' is '{3}': a modifier reads a tensor through a type parameter of its own constrained to IModTensor<int> or IModTensor<float>, e.g. 'T {2}' with 'where T : struct, IModTensor<float>'");

    public static readonly DiagnosticDescriptor TooManyModTensors = Error("AK0034",
        "Too many modifier tensors",
        "'{0}' declares {1} tensors read by its modifiers; at most 4 are supported");

    public static readonly DiagnosticDescriptor VarlenWithAttnMask = Error("AK0026",
        "Attention mask tensor with packed variable-length offsets",
        "'attnMask' cannot be combined with queryOffsets and keyOffsets: a mask tensor is shaped [B, H, Tq, Tk] and a packed batch has no such axes (use a MaskMod, which sees the sequence and positions)");

    public static readonly DiagnosticDescriptor UnknownValue = Error("AK0100",
        "Unknown value name",
        "'{0}' is not a parameter or a node of graph '{1}'");

    public static readonly DiagnosticDescriptor DuplicateName = Error("AK0101",
        "Duplicate node name",
        "A node or input named '{0}' already exists in graph '{1}'");

    public static readonly DiagnosticDescriptor Cycle = Error("AK0102",
        "Graph has a cycle",
        "Nodes {0} depend on each other in a cycle");

    public static readonly DiagnosticDescriptor UnusedNode = new("AK0103",
        "Unused node",
        "Node '{0}' is computed but neither read by another node nor a parameter of '{1}'",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpRoot + "AK0103.md");

    public static readonly DiagnosticDescriptor DimensionMismatch = Error("AK0104",
        "Dimension mismatch between connected nodes",
        "{0}");

    public static readonly DiagnosticDescriptor ParameterNeverUsed = Error("AK0105",
        "Output never produced",
        "Parameter '{0}' is neither read by a node nor produced by one (name a node '{0}' to make it an output)");

    public static readonly DiagnosticDescriptor MissingFeatures = Error("AK0106",
        "Graph input needs its feature count",
        "Input '{0}' needs [Features(n)]: the feature count sizes the weights at compile time");

    public static readonly DiagnosticDescriptor UnsupportedCombination = Error("AK0107",
        "Unsupported combination",
        "{0}");

    public static readonly DiagnosticDescriptor NotFused = new("AK0108",
        "Node runs unfused",
        "'{0}' runs as its own kernel: {1}",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpRoot + "AK0108.md");

    public static readonly DiagnosticDescriptor GraphMethodShape = Error("AK0109",
        "Graph method must be a non-generic partial void method",
        "'{0}' must be declared as a non-generic 'partial void' method to carry graph nodes");

    public static readonly DiagnosticDescriptor NodeOutsideModel = Error("AK0110",
        "Graph node outside an [AttentionModel] class",
        "[{0}] on '{1}' does nothing: graph nodes need the containing class '{2}' to be marked [AttentionModel]");

    public static readonly DiagnosticDescriptor GraphWithoutNodes = Error("AK0111",
        "Graph method has no nodes",
        "'{0}' is a partial method of [AttentionModel] class '{1}' but carries no graph node, so nothing would implement it; add nodes (e.g. [Linear(\"y\", From = \"x\", OutFeatures = 64)]) or give it a body");

    public static readonly DiagnosticDescriptor WrongValueKind = Error("AK0112",
        "Value of the wrong kind for its role",
        "{0} of node '{1}' must name {2}, but '{3}' is {4}");

    public static readonly DiagnosticDescriptor IntRoleConflict = Error("AK0113",
        "Int tensor read in two roles",
        "Tensor<int> parameter '{0}' is read as {1} by '{2}' and as {3} by '{4}'; give each role its own parameter");

    public static readonly DiagnosticDescriptor TokenTypesWithoutTable = Error("AK0114",
        "Token-type ids without a token-type table",
        "Embedding '{0}' reads token-type ids '{1}' but has no table: set TokenTypes to the number of token types");

    public static readonly DiagnosticDescriptor GraphModTensorNotInput = Error("AK0115",
        "Graph modifier reads a tensor that is not an input of the graph",
        "{0} method '{1}' of node '{2}' reads '{3}', which {4}: a graph binds each modifier tensor by name to a parameter of '{5}', declare 'Tensor<int> {3}' or 'Tensor<float> {3}' there");

    public static readonly DiagnosticDescriptor InternalError = Error("AK0099",
        "Internal generator error",
        "The Attention.Kernels generator failed on '{0}': {1}. Please report this with the declaration that caused it.");

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = typeof(DiagnosticDescriptors)
        .GetFields()
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToDictionary(d => d.Id);

    public static IEnumerable<DiagnosticDescriptor> All => s_byId.Values.OrderBy(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => s_byId[id];

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + id + ".md");
}

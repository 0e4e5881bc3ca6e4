using System;
using System.Collections.Generic;
using System.Linq;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Model;
using Attention.Kernels.Generator.Parsing;

namespace Attention.Kernels.Generator.Analysis;

/// <summary>
/// Judges a <see cref="ParsedKernel"/>: validates the method shape, the parameters and the attribute values,
/// applies defaults, and builds the attention graph. Every rule that fails adds a diagnostic at the place
/// the user has to edit.
/// </summary>
internal static class KernelAnalyzer
{
    public const int MinHeadDim = 1;
    public const int MaxHeadDim = 256;
    public const int MaxHeads = 4096;

    /// <summary>The parameters of an attention kernel, in order: the first four are required, the rest (<see cref="OptionalParameters"/>) optional.</summary>
    public static readonly string[] AttentionParameters = ["q", "k", "v", "output", "logSumExp", "keyLengths", "attnMask", "documentIds", "prefixLengths", "queryOffsets", "keyOffsets"];

    /// <summary>Parameters required before the optional ones: q, k, v, output.</summary>
    public const int RequiredParameters = 4;

    /// <summary>
    /// The optional parameters after output, each bound by its name and type, in this order when several are declared:
    /// the log-sum-exp output (Tensor&lt;float&gt; [B, H, Tq]), the key padding (Tensor&lt;int&gt; [B]), PyTorch's attn_mask
    /// (Tensor&lt;bool&gt; or Tensor&lt;float&gt;, broadcast to [B, H, Tq, Tk]), the built-in document mask's ids (Tensor&lt;int&gt;
    /// [B, T]), the built-in prefix-LM mask's prefix lengths (Tensor&lt;int&gt; [B]) and the offsets of a packed variable-length
    /// batch (Tensor&lt;int&gt; [B + 1] each; docs/kernels/masks.md). Declaring one of them is what opts in, as for key padding.
    /// </summary>
    public static readonly string[] OptionalParameters = ["logSumExp", "keyLengths", "attnMask", "documentIds", "prefixLengths", "queryOffsets", "keyOffsets"];

    /// <summary>The optional parameters that are int tensors.</summary>
    private static readonly string[] IntParameters = ["keyLengths", "documentIds", "prefixLengths", "queryOffsets", "keyOffsets"];

    /// <summary>PyTorch's names for the first three parameters, accepted as well (the generated body renames them).</summary>
    public static readonly string[] PyTorchNames = ["query", "key", "value"];

    /// <summary>Whether <paramref name="name"/> is right for parameter <paramref name="index"/>: q, k, v (or query, key, value), output, logSumExp.</summary>
    public static bool IsParameterName(int index, string name) =>
        name == AttentionParameters[index] || index < PyTorchNames.Length && name == PyTorchNames[index];

    /// <summary>Never throws: an unexpected failure becomes AK0099 at the attribute, and nothing is emitted.</summary>
    public static KernelDeclaration Analyze(ParsedKernel parsed, bool allowUnsafe)
    {
        try
        {
            return AnalyzeCore(parsed, allowUnsafe);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var location = parsed.AttributeLocation ?? parsed.Method.Location;
            var error = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, location, parsed.Method.Name, exception.GetType().Name + ": " + exception.Message);
            return new KernelDeclaration(parsed.TypeKey, parsed.Namespace, parsed.ContainingTypes,
                new KernelMethodInfo(parsed.Method.Name, parsed.Method.Modifiers, EquatableArray<ParameterInfo>.Empty),
                new AttentionGraph(EquatableArray<string>.Empty, EquatableArray<string>.Empty, EquatableArray<GraphNode>.Empty),
                new[] { error }.ToEquatableArray(), CanEmit: false);
        }
    }

    private static KernelDeclaration AnalyzeCore(ParsedKernel parsed, bool allowUnsafe)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        var method = parsed.Method;
        // Parse-time diagnostics (a repeated attribute) still let the error stub be written; an internal error does not.
        bool canEmit = !parsed.Diagnostics.Any(d => d.Id == DiagnosticDescriptors.InternalError.Id);

        if (method.BodyLocation is not null)
        {
            // The user wrote the body: generating one would be CS0757 inside the generated file. Say so at their body, emit nothing.
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BodyWritten, method.BodyLocation, method.Name, $"[{parsed.AttributeName}]"));
            return Declaration(parsed, Graph(false, EquatableArray<GraphNode>.Empty), diagnostics, canEmit: false);
        }
        bool shapeOk = method.IsStatic && method.IsPartialDefinition && method.ReturnsVoid && !method.IsGeneric;
        if (!shapeOk)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MethodShape, method.Location, method.Name, parsed.AttributeName));
            // A partial definition still gets an error stub with its own signature, so the compiler adds no CS8795 (generic
            // methods would need their constraints repeated and get none).
            canEmit &= method.IsPartialDefinition && !method.IsGeneric;
        }
        foreach (string type in parsed.NonPartialTypes)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial, method.Location, type, method.Name));
            canEmit = false;
        }
        if (canEmit && shapeOk && !allowUnsafe)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsafeBlocksRequired, method.Location, method.Name));

        // Tensors read by modifiers (docs/kernels/mods.md): the trailing parameters a valid modifier names; the parameters
        // before them are the standard ones, checked as always.
        var modTensorNames = new HashSet<string>(parsed.Mods.Where(m => m.Status == ModStatus.Valid).SelectMany(m => m.Tensors).Select(t => t.Name));
        int standardCount = parsed.Parameters.Count;
        while (standardCount > RequiredParameters && modTensorNames.Contains(parsed.Parameters[standardCount - 1].Name)
               && !AttentionParameters.Contains(parsed.Parameters[standardCount - 1].Name))
            standardCount--;
        var trailing = parsed.Parameters.Skip(standardCount).ToList();
        var whole = parsed;
        parsed = parsed with { Parameters = parsed.Parameters.Take(standardCount).ToEquatableArray() };

        // One mistake, one diagnostic: a signature that has to be rewritten (AK0001) is not also checked parameter by parameter.
        var (hasLogSumExp, storage) = shapeOk
            ? CheckParameters(parsed, diagnostics)
            : (parsed.Parameters.Any(p => p.Name == "logSumExp"), ElementType.Float32);
        var optional = parsed.Parameters.Skip(RequiredParameters).ToList();
        bool hasKeyLengths = optional.Any(p => p.Name == "keyLengths");
        var attnMask = optional.FirstOrDefault(p => p.Name == "attnMask");
        var maskTensor = attnMask is null ? MaskTensorKind.None : attnMask.IsBoolTensor ? MaskTensorKind.Boolean : MaskTensorKind.Additive;
        var documentIds = optional.FirstOrDefault(p => p.Name == "documentIds");
        var prefixLengths = optional.FirstOrDefault(p => p.Name == "prefixLengths");
        var node = BuildAttentionNode(parsed, hasLogSumExp, storage, diagnostics, trailing) with
        {
            HasKeyLengths = hasKeyLengths, MaskTensor = maskTensor, DocumentMask = documentIds is not null, PrefixLm = prefixLengths is not null,
        };
        if (prefixLengths is not null && node.Mask != MaskKind.None)
        {
            // Prefix-LM is a causal mask with a bidirectional prefix: ANDed with another causal mask the prefix would vanish.
            var mask = parsed.Arguments.LastOrDefault(a => a.Name == "Mask");
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PrefixLmWithMask, mask?.Location ?? prefixLengths.Location, node.Mask.ToString()));
        }
        if (shapeOk && parsed.Parameters.Count <= AttentionParameters.Length) // a wrong count is AK0003 alone
            node = CheckVarlen(parsed, node, optional, diagnostics);

        return Declaration(whole, Graph(hasLogSumExp, new GraphNode[] { node }.ToEquatableArray()), diagnostics, canEmit);
    }

    /// <summary>
    /// Packed variable-length batches: both offsets or neither (AK0023), no key padding with them (AK0024), token-major
    /// layout only (AK0025). Returns the node marked varlen when the offsets are declared.
    /// </summary>
    private static AttentionNode CheckVarlen(ParsedKernel parsed, AttentionNode node, List<ParsedParameter> optional, List<DiagnosticInfo> diagnostics)
    {
        var queryOffsets = optional.FirstOrDefault(p => p.Name == "queryOffsets");
        var keyOffsets = optional.FirstOrDefault(p => p.Name == "keyOffsets");
        if (queryOffsets is null && keyOffsets is null)
            return node;
        if (queryOffsets is null || keyOffsets is null)
        {
            var present = queryOffsets ?? keyOffsets!;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.VarlenOffsetMissing, present.Location, present.Name,
                queryOffsets is null ? "queryOffsets" : "keyOffsets"));
        }
        if (optional.FirstOrDefault(p => p.Name == "keyLengths") is { } keyLengths)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.VarlenWithKeyLengths, keyLengths.Location));
        if (optional.FirstOrDefault(p => p.Name == "attnMask") is { } attnMask)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.VarlenWithAttnMask, attnMask.Location));
        foreach (var builtIn in optional.Where(p => p.Name is "documentIds" or "prefixLengths"))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BuiltInMaskWithVarlen, builtIn.Location, builtIn.Name));
        if (node.Layout != LayoutKind.BTHD)
        {
            var layout = parsed.Arguments.LastOrDefault(a => a.Name == "Layout");
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.VarlenLayout, layout?.Location ?? parsed.AttributeLocation, node.Layout.ToString()));
        }
        return node with { IsVarlen = true };
    }

    private static AttentionGraph Graph(bool hasLogSumExp, EquatableArray<GraphNode> nodes) => new(
        AttentionParameters.Take(3).ToEquatableArray(),
        Outputs(hasLogSumExp),
        nodes);

    private static EquatableArray<string> Outputs(bool hasLogSumExp) =>
        (hasLogSumExp ? new[] { "output", "logSumExp" } : new[] { "output" }).ToEquatableArray();

    /// <summary>
    /// The names the first <paramref name="count"/> parameters should have: q, k, v, output, then optional parameters in
    /// their documented order: the known ones the user wrote, completed with the others in order (what AK0005 lists).
    /// <paramref name="misnamedOptional"/> is the first optional position whose name differs from that, or −1.
    /// </summary>
    private static string[] ExpectedNames(EquatableArray<ParsedParameter> parameters, int count, out int misnamedOptional)
    {
        var names = AttentionParameters.Take(Math.Min(count, RequiredParameters)).ToList();
        var written = new HashSet<string>(parameters.Skip(RequiredParameters).Take(Math.Max(0, count - RequiredParameters)).Select(p => p.Name));
        int wanted = Math.Max(0, count - RequiredParameters);
        var chosen = new HashSet<string>(OptionalParameters.Where(written.Contains));
        foreach (string name in OptionalParameters)
        {
            if (chosen.Count >= wanted)
                break;
            chosen.Add(name);
        }
        names.AddRange(OptionalParameters.Where(chosen.Contains));
        misnamedOptional = -1;
        for (int i = RequiredParameters; i < count; i++)
        {
            if (parameters[i].Name != names[i])
            {
                misnamedOptional = i;
                break;
            }
        }
        return names.ToArray();
    }

    private static KernelDeclaration Declaration(ParsedKernel parsed, AttentionGraph graph, List<DiagnosticInfo> diagnostics, bool canEmit) => new(
        parsed.TypeKey,
        parsed.Namespace,
        parsed.ContainingTypes,
        new KernelMethodInfo(parsed.Method.Name, parsed.Method.Modifiers, parsed.Parameters.Select(p => new ParameterInfo(p.Name, p.Type)).ToEquatableArray(),
            parsed.Method.ReturnType, parsed.Method.IsStatic),
        graph,
        diagnostics.ToEquatableArray(),
        canEmit);

    /// <summary>
    /// Checks count, names and types; returns whether the optional log-sum-exp output is declared, and the storage type
    /// q, k, v and output share (q's, when they disagree: each disagreeing parameter gets AK0016).
    /// </summary>
    private static (bool HasLogSumExp, ElementType Storage) CheckParameters(ParsedKernel parsed, List<DiagnosticInfo> diagnostics)
    {
        var parameters = parsed.Parameters;
        int required = RequiredParameters;
        if (parameters.Count < required || parameters.Count > AttentionParameters.Length)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ParameterCount, parsed.Method.ParameterListLocation ?? parsed.Method.Location,
                parsed.Method.Name, parameters.Count, $"{required} (q, k, v, output), optionally followed by any of {string.Join(", ", OptionalParameters)}, in that order"));
        }
        ParsedParameter? first = null; // the first storage tensor with a valid type sets the storage type
        int checkedCount = Math.Min(parameters.Count, AttentionParameters.Length);
        // Names: one diagnostic for the whole list (PyTorch users write query, key, value: one mistake, not three).
        var expectedNames = ExpectedNames(parameters, checkedCount, out int misnamedOptional);
        int misnamed = misnamedOptional;
        for (int i = Math.Min(checkedCount, required) - 1; i >= 0; i--)
        {
            if (!IsParameterName(i, parameters[i].Name))
                misnamed = i;
        }
        if (misnamed >= 0)
        {
            var names = parameters.Take(checkedCount).Select(p => p.Name).ToList();
            string hint = misnamed < required ? " (q, k, v may also be written query, key, value, as in PyTorch)"
                : $" (after output come, each optional and in this order: {string.Join(", ", OptionalParameters)})";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ParameterName, parameters[misnamed].Location,
                string.Join(", ", expectedNames), string.Join(", ", names), hint));
        }
        for (int i = 0; i < checkedCount; i++)
        {
            var parameter = parameters[i];
            // An optional parameter's type is checked against its own name (a misnamed or misplaced one is AK0005 already).
            if (i >= required && !OptionalParameters.Contains(parameter.Name))
                continue;
            if (i >= required && IntParameters.Contains(parameter.Name))
            {
                // Key padding and varlen offsets: per-batch ints (docs/kernels/masks.md).
                if (!parameter.IsIntTensor)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ParameterType, parameter.Location, parameter.Name,
                        parameter.Name switch
                        {
                            "keyLengths" => "Tensor<int> (passed by value; the number of real keys of each batch entry, [B])",
                            "documentIds" => "Tensor<int> (passed by value; the document id of each position, [B, T])",
                            "prefixLengths" => "Tensor<int> (passed by value; the bidirectional prefix length of each batch entry, [B])",
                            _ => "Tensor<int> (passed by value; the offsets of a packed variable-length batch, [B + 1])",
                        }, parameter.Type));
            }
            else if (i >= required && parameter.Name == "attnMask")
            {
                // PyTorch's attn_mask: boolean (true takes part) or additive; fp32 for every storage type, like the log-sum-exp.
                if (!parameter.IsBoolTensor && parameter.TensorElement != ElementType.Float32)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ParameterType, parameter.Location, parameter.Name,
                        "Tensor<bool> (true: the pair takes part) or Tensor<float> (added to the scaled score), passed by value", parameter.Type));
            }
            else if (i >= required)
            {
                // The log-sum-exp is a float statistic for every storage type (fp16 would lose its precision and range).
                if (parameter.TensorElement != ElementType.Float32)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ParameterType, parameter.Location, parameter.Name,
                        "Tensor<float> (passed by value; the log-sum-exp is fp32 for every storage type)", parameter.Type));
            }
            else if (parameter.TensorElement is not { } element)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ParameterType, parameter.Location, parameter.Name,
                    "Tensor<float>, Tensor<Half> or Tensor<BFloat16> (passed by value)", parameter.Type));
            else if (first is null)
                first = parameter;
            else if (element != first.TensorElement)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MixedElementTypes, parameter.Location, parameter.Name,
                    "Tensor<" + element.DisplayName() + ">", first.Name, "Tensor<" + first.TensorElement!.Value.DisplayName() + ">"));
        }
        return (parameters.Skip(required).Any(p => p.Name == "logSumExp"), first?.TensorElement ?? ElementType.Float32);
    }

    /// <summary>
    /// The built-in score modifiers of an attention attribute, for kernel declarations and graph attention nodes alike:
    /// ALiBi and soft-capping (docs/kernels/mods.md); a SoftCap that is negative, infinite or NaN is AK0027 and dropped.
    /// </summary>
    internal static (bool Alibi, double SoftCap) BuiltInScoreMods(IReadOnlyDictionary<string, (double, LocationInfo?)> arguments,
        List<DiagnosticInfo> diagnostics)
    {
        bool alibi = arguments.TryGetValue("Alibi", out var alibiArgument) && alibiArgument.Item1 != 0;
        double softCap = 0;
        if (arguments.TryGetValue("SoftCap", out var capArgument))
        {
            softCap = capArgument.Item1;
            if (double.IsNaN(softCap) || double.IsInfinity(softCap) || softCap < 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidSoftCap, capArgument.Item2, Format(softCap)));
                softCap = 0;
            }
        }
        return (alibi, softCap);
    }

    private static AttentionNode BuildAttentionNode(ParsedKernel parsed, bool hasLogSumExp, ElementType storage, List<DiagnosticInfo> diagnostics,
        List<ParsedParameter> trailing)
    {
        if (trailing.Count > ModTensorLimit)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooManyModTensors, trailing[ModTensorLimit].Location, parsed.Method.Name, trailing.Count));
        var modTensors = trailing.Select(p => new ModTensorInfo(p.Name, !p.IsIntTensor)).ToEquatableArray();
        string scoreModTensors = "", maskModTensors = "";
        var arguments = new Dictionary<string, (double, LocationInfo?)>();
        foreach (var argument in parsed.Arguments)
            arguments[argument.Name] = (argument.Value, argument.Location); // a repeated argument is CS0643 already; last wins
        var settings = ValidateAttention(arguments, parsed.AttributeLocation, diagnostics);
        string? scoreMod = null, maskMod = null;
        foreach (var mod in parsed.Mods)
        {
            bool score = mod.Argument == KernelParser.ScoreModArgument;
            string expected = ModSignature(score, mod.Method);
            switch (mod.Status)
            {
                case ModStatus.NotFound:
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModNotFound, mod.Location, mod.Argument, mod.Method, mod.TypeName, expected));
                    break;
                case ModStatus.WrongSignature:
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModSignature, mod.Location, mod.Argument, mod.Method, expected));
                    break;
                default:
                    if (!ModTensorArguments(parsed, mod, trailing, diagnostics, out string tensorArguments))
                        break; // the modifier's tensors are wrong (AK0031–AK0033): the kernel is not emitted
                    if (score)
                        scoreModTensors = tensorArguments;
                    else
                        maskModTensors = tensorArguments;
                    // Called fully qualified from the nested kernel struct, so no member of the struct (Mask, Scale…) can shadow it.
                    string target = QualifiedTypeName(parsed) + "." + mod.Method;
                    if (score)
                        scoreMod = target;
                    else
                        maskMod = target;
                    break;
            }
        }
        var (alibi, softCap) = BuiltInScoreMods(arguments, diagnostics);
        return new AttentionNode(
            parsed.Method.Name,
            AttentionParameters.Take(3).ToEquatableArray(),
            Outputs(hasLogSumExp),
            settings.HeadDim, settings.Heads, settings.KvHeads, settings.Mask, settings.Window, settings.Scale, settings.Layout, hasLogSumExp, storage,
            scoreMod, maskMod, Alibi: alibi, SoftCap: softCap, ModTensors: modTensors, ScoreModTensors: scoreModTensors, MaskModTensors: maskModTensors);
    }

    /// <summary>The most tensors the modifiers of one declaration or graph node read (ModTensorArgs.MaxCount).</summary>
    internal const int ModTensorLimit = 4;

    /// <summary>One tensor argument of a modifier call: the accessor in slot <paramref name="slot"/> (", tensors.Float0" …).</summary>
    internal static string ModTensorArgument(bool isFloat, int slot) => ", tensors." + (isFloat ? "Float" : "Int") + slot.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The extra arguments of a modifier call that reads tensors (", tensors.Float0, tensors.Int1" …), slot = the tensor's
    /// position among the trailing parameters. False after AK0031 (no such trailing tensor), AK0032 (element type) or
    /// AK0033 (a parameter that is not an IModTensor type parameter).
    /// </summary>
    private static bool ModTensorArguments(ParsedKernel parsed, ParsedMod mod, List<ParsedParameter> trailing, List<DiagnosticInfo> diagnostics,
        out string arguments)
    {
        var text = new System.Text.StringBuilder();
        bool ok = true;
        foreach (var tensor in mod.Tensors)
        {
            if (tensor.Kind == ModTensorKind.Unsupported)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModTensorParameterType, mod.Location, mod.Argument, mod.Method, tensor.Name, tensor.Type));
                ok = false;
                continue;
            }
            int slot = trailing.FindIndex(p => p.Name == tensor.Name);
            if (slot < 0)
            {
                string declared = trailing.Count == 0 ? "none" : string.Join(", ", trailing.Select(p => p.Name));
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModTensorNotDeclared, mod.Location, mod.Argument, mod.Method, tensor.Name,
                    parsed.Method.Name, declared));
                ok = false;
                continue;
            }
            var parameter = trailing[slot];
            bool isFloat = tensor.Kind == ModTensorKind.Float;
            if (isFloat ? parameter.TensorElement != ElementType.Float32 : !parameter.IsIntTensor)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModTensorElementType, parameter.Location, parameter.Name, parameter.Type,
                    mod.Argument, mod.Method, isFloat ? "float" : "int"));
                ok = false;
                continue;
            }
            text.Append(ModTensorArgument(isFloat, slot));
        }
        arguments = text.ToString();
        return ok;
    }

    /// <summary>The signature a modifier method must have, for the diagnostics (it may add the tensors it reads: AK0022's text says so).</summary>
    internal static string ModSignature(bool score, string name) => score
        ? $"static float {name}(float score, int batch, int head, int query, int key)"
        : $"static bool {name}(int batch, int head, int query, int key)";

    /// <summary>The declaring type as the generated code names it: global::Namespace.Outer.Inner&lt;T&gt;.</summary>
    private static string QualifiedTypeName(ParsedKernel parsed) =>
        "global::" + string.Join(".", (parsed.Namespace is null ? Enumerable.Empty<string>() : new[] { parsed.Namespace })
            .Concat(parsed.ContainingTypes.Select(t => t.Name)));

    /// <summary>Validated attention constants, defaults applied (invalid values replaced by safe ones after their diagnostic).</summary>
    internal sealed record AttentionSettings(int HeadDim, int Heads, int KvHeads, MaskKind Mask, int Window, double Scale, LayoutKind Layout);

    /// <summary>
    /// Checks the attention arguments (HeadDim, Heads, KvHeads, Mask, Window, Scale, Layout), reporting each mistake at its
    /// argument, or at <paramref name="fallback"/> when the argument is missing. Shared by kernels and graph nodes.
    /// </summary>
    internal static AttentionSettings ValidateAttention(IReadOnlyDictionary<string, (double Value, LocationInfo? Location)> arguments,
        LocationInfo? fallback, List<DiagnosticInfo> diagnostics, string attributeName = "ScaledDotProductAttention")
    {
        LocationInfo? Where(string name) => arguments.TryGetValue(name, out var a) ? a.Location : fallback;
        double Get(string name) => arguments.TryGetValue(name, out var a) ? a.Value : 0;
        void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string at, params object?[] args) =>
            diagnostics.Add(DiagnosticInfo.Create(descriptor, Where(at), args));

        int headDim = ClampToInt(Get("HeadDim"));
        if (!arguments.ContainsKey("HeadDim"))
            Report(DiagnosticDescriptors.RequiredArgument, "HeadDim", "HeadDim", $"the size of one head, {MinHeadDim}–{MaxHeadDim}", attributeName);
        else if (headDim <= 0)
            Report(DiagnosticDescriptors.NotPositive, "HeadDim", "HeadDim", Format(Get("HeadDim")));
        else if (headDim > MaxHeadDim)
            Report(DiagnosticDescriptors.HeadDimOutOfRange, "HeadDim", headDim, MinHeadDim, MaxHeadDim);

        int heads = ClampToInt(Get("Heads"));
        if (!arguments.ContainsKey("Heads"))
            Report(DiagnosticDescriptors.RequiredArgument, "Heads", "Heads", "the number of query heads", attributeName);
        else if (heads <= 0)
            Report(DiagnosticDescriptors.NotPositive, "Heads", "Heads", Format(Get("Heads")));
        else if (heads > MaxHeads)
            Report(DiagnosticDescriptors.ValueTooLarge, "Heads", "Heads", heads, MaxHeads);

        int kvHeads = ClampToInt(Get("KvHeads"));
        if (kvHeads < 0)
            Report(DiagnosticDescriptors.NotPositive, "KvHeads", "KvHeads", Format(Get("KvHeads")));
        if (kvHeads <= 0)
            kvHeads = Math.Max(heads, 1);
        else if (heads > 0 && heads % kvHeads != 0)
            Report(DiagnosticDescriptors.HeadsNotDivisible, "KvHeads", heads, kvHeads);

        int maskValue = ClampToInt(Get("Mask"));
        var mask = Enum.IsDefined(typeof(MaskKind), maskValue) ? (MaskKind)maskValue : MaskKind.None;
        if (!Enum.IsDefined(typeof(MaskKind), maskValue))
            Report(DiagnosticDescriptors.UnsupportedMask, "Mask", maskValue);

        int window = ClampToInt(Get("Window"));
        if (window < 0)
            Report(DiagnosticDescriptors.NotPositive, "Window", "Window", Format(Get("Window")));
        else if (window > 0 && mask != MaskKind.SlidingWindow)
            Report(DiagnosticDescriptors.WindowWithoutWindowMask, "Window", window, "AttentionMask." + mask);
        else if (window == 0 && mask == MaskKind.SlidingWindow)
            Report(DiagnosticDescriptors.SlidingWindowWithoutWindow, "Mask");

        int layoutValue = ClampToInt(Get("Layout"));
        bool userLayout = layoutValue is (int)LayoutKind.BTHD or (int)LayoutKind.BHTD; // PackedQkv is for graphs only
        var layout = userLayout ? (LayoutKind)layoutValue : LayoutKind.BTHD;
        if (!userLayout)
            Report(DiagnosticDescriptors.UnsupportedLayout, "Layout", layoutValue);

        double scale = Get("Scale");
        if (double.IsNaN(scale) || double.IsInfinity(scale) || scale < 0)
            Report(DiagnosticDescriptors.InvalidScale, "Scale", Format(scale));
        if (!(scale > 0) || double.IsInfinity(scale))
            scale = 1.0 / Math.Sqrt(Math.Max(headDim, 1));

        return new AttentionSettings(Math.Max(headDim, 1), Math.Max(heads, 1), kvHeads, mask, Math.Max(window, 0), scale, layout);
    }

    internal static int ClampToInt(double value) =>
        double.IsNaN(value) ? 0 : value >= int.MaxValue ? int.MaxValue : value <= int.MinValue ? int.MinValue : (int)value;

    internal static string Format(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

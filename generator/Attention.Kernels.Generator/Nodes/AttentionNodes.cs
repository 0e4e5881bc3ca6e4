using System.Collections.Generic;
using System.Linq;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Emit;
using Attention.Kernels.Generator.Model;
using Attention.Kernels.Generator.Parsing;

namespace Attention.Kernels.Generator.Nodes;

/// <summary>
/// [ScaledDotProductAttention] on packed q|k|v, and [MultiHeadAttention] (QKV projection → attention → output projection,
/// weights <c>{name}.qkv</c> and <c>{name}.out</c>). The attention itself is a generated kernel struct per step.
/// </summary>
internal sealed class AttentionKind(string name) : NodeKind(name)
{
    private bool MultiHead => Name == "MultiHeadAttention";

    /// <summary>The data-driven masks a graph node names by value (docs/kernels/masks.md): key padding, document ids, prefix lengths, attnMask.</summary>
    public override IReadOnlyList<string> OptionalRoles { get; } = ["KeyPadding", DocumentIdsRole, PrefixLengthsRole, AttnMaskRole];

    private const string DocumentIdsRole = "DocumentIds", PrefixLengthsRole = "PrefixLengths";

    public override IntRole? IntInput(string role) => role switch
    {
        "KeyPadding" => IntRole.Padding,
        DocumentIdsRole => IntRole.Documents,
        PrefixLengthsRole => IntRole.Prefix,
        ModTensorRole => IntRole.ModTensor,
        _ => null,
    };

    public override GraphValue? Shape(ShapeContext c)
    {
        var node = c.Node;
        var arguments = node.Parsed.Arguments.Where(a => a.Number is not null).ToDictionary(a => a.Name, a => (a.Number!.Value, a.Location));
        if (arguments.ContainsKey("Layout") || arguments.ContainsKey("Scale") && MultiHead)
        {
            c.Unsupported(node.Where("Layout"), $"In a graph, attention reads and writes [B, T, F] values; '{node.Name}' cannot set Layout");
            return null;
        }
        int before = c.Diagnostics.Count;
        // Score and mask modifiers: methods of the model class, checked as for kernel declarations (AK0021, AK0022).
        foreach (var mod in node.Parsed.Mods)
        {
            string expected = KernelAnalyzer.ModSignature(mod.Argument == KernelParser.ScoreModArgument, mod.Method);
            if (mod.Status == ModStatus.NotFound)
                c.Report(DiagnosticDescriptors.ModNotFound, mod.Location, mod.Argument, mod.Method, mod.TypeName, expected);
            else if (mod.Status == ModStatus.WrongSignature)
                c.Report(DiagnosticDescriptors.ModSignature, mod.Location, mod.Argument, mod.Method, expected);
        }
        CheckModTensors(c);
        var settings = KernelAnalyzer.ValidateAttention(arguments, node.Parsed.Location, c.Diagnostics, node.Kind);
        KernelAnalyzer.BuiltInScoreMods(arguments, c.Diagnostics); // AK0027 for a bad SoftCap; the step reads them again
        // Prefix-LM is its own causal mask, as on a declaration (AK0028).
        if (node.Inputs.Any(i => i.Role == PrefixLengthsRole) && settings.Mask != MaskKind.None)
            c.Report(DiagnosticDescriptors.PrefixLmWithMask, node.Where("Mask"), settings.Mask.ToString());
        if (c.Diagnostics.Count > before)
            return null;
        int packed = (settings.Heads + 2 * settings.KvHeads) * settings.HeadDim;
        if (!MultiHead && c.X.Features != packed)
        {
            c.Mismatch(c.At, $"Attention '{node.Name}' reads packed [q | k | v] of (Heads + 2·KvHeads)·HeadDim = {packed} features, but '{c.X.Name}' has {c.X.Features}");
            return null;
        }
        return new GraphValue(node.Name, MultiHead ? c.X.Features : settings.Heads * settings.HeadDim, false, IntRole.None);
    }

    /// <summary>
    /// The tensors the modifiers read, as a declaration's (AK0033 a parameter that is no IModTensor type parameter, AK0032 an
    /// element type other than the modifier reads, AK0034 more than four); the graph found them by name (AK0115 otherwise).
    /// </summary>
    private static void CheckModTensors(ShapeContext c)
    {
        var node = c.Node;
        var bound = new Dictionary<string, GraphValue>();
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            if (node.Inputs[i].Role == ModTensorRole)
                bound[node.Inputs[i].Value] = c.Inputs[i].Value;
        }
        foreach (var mod in node.Parsed.Mods.Where(m => m.Status == ModStatus.Valid))
        {
            foreach (var tensor in mod.Tensors)
            {
                if (tensor.Kind == ModTensorKind.Unsupported)
                {
                    c.Report(DiagnosticDescriptors.ModTensorParameterType, mod.Location, mod.Argument, mod.Method, tensor.Name, tensor.Type);
                    continue;
                }
                if (!bound.TryGetValue(tensor.Name, out var value))
                    continue; // not an input of the graph: AK0115 already
                bool isFloat = tensor.Kind == ModTensorKind.Float;
                if (isFloat == value.IsInt || value.IsBool)
                    c.Report(DiagnosticDescriptors.ModTensorElementType, node.Inputs.First(i => i.Value == tensor.Name && i.Role == ModTensorRole).Location,
                        tensor.Name, value.IsBool ? "Tensor<bool>" : value.IsInt ? "Tensor<int>" : "Tensor<float>", mod.Argument, mod.Method, isFloat ? "float" : "int");
            }
        }
        var names = ModTensorNames(node);
        if (names.Count > KernelAnalyzer.ModTensorLimit)
            c.Report(DiagnosticDescriptors.TooManyModTensors, node.Parsed.Location, node.Name, names.Count);
    }

    /// <summary>The node's modifier tensors in slot order: the score modifier's, then the mask modifier's new ones (each once).</summary>
    private static List<string> ModTensorNames(GraphAnalyzer.Node node) =>
        node.Parsed.Mods.Where(m => m.Status == ModStatus.Valid).OrderBy(m => m.Argument == KernelParser.ScoreModArgument ? 0 : 1)
            .SelectMany(m => m.Tensors).Select(t => t.Name).Distinct().ToList();

    public override void Plan(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan)
    {
        string input = node.Inputs[0].Value;
        if (!MultiHead)
        {
            AddAttention(node, plan, node.Name, input);
            return;
        }
        var x = plan.Input(node);
        var s = Settings(node);
        string qkv = node.Name + ".qkv", context = node.Name + ".attention";
        plan.AddLinear(qkv, input, x.Features, (s.Heads + 2 * s.KvHeads) * s.HeadDim, bias: true, GraphAnalyzer.ActivationNone, pooled: false);
        AddAttention(node, plan, context, qkv);
        // The output projection writes the node's value; its weights are '{name}.out', as the attribute's docs say.
        plan.AddLinear(node.Name, context, s.Heads * s.HeadDim, x.Features, bias: true, GraphAnalyzer.ActivationNone, pooled: false,
            weightNode: node.Name + ".out");
        plan.Notes.Add($"'{node.Name}' expands to {qkv} (QKV projection) → {context} (fused attention) → {node.Name} (output projection, weights {node.Name}.out).");
    }

    private static Dictionary<string, (double, LocationInfo?)> NumberArguments(GraphAnalyzer.Node node) =>
        node.Parsed.Arguments.Where(a => a.Number is not null).ToDictionary(a => a.Name, a => (a.Number!.Value, a.Location));

    private static KernelAnalyzer.AttentionSettings Settings(GraphAnalyzer.Node node) =>
        KernelAnalyzer.ValidateAttention(NumberArguments(node), node.Parsed.Location, []);

    private static void AddAttention(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan, string output, string packed)
    {
        var s = Settings(node);
        string? padding = node.Inputs.FirstOrDefault(i => i.Role == "KeyPadding").Value;
        string? documents = node.Inputs.FirstOrDefault(i => i.Role == DocumentIdsRole).Value;
        string? prefix = node.Inputs.FirstOrDefault(i => i.Role == PrefixLengthsRole).Value;
        string? attnMask = node.Inputs.FirstOrDefault(i => i.Role == AttnMaskRole).Value;
        var maskTensor = attnMask is null ? MaskTensorKind.None : plan.Value(attnMask).IsBool ? MaskTensorKind.Boolean : MaskTensorKind.Additive;
        // The modifier tensors: slot n holds the n-th name, each call passes its own from their slots (as a declaration's).
        var slots = ModTensorNames(node);
        var modTensors = slots.Select(n => new ModTensorInfo(n, !plan.Value(n).IsInt)).ToEquatableArray();
        // Called fully qualified from the nested kernel struct, so no member of the struct (Mask, Scale…) can shadow them.
        string? Mod(string argument) => node.Parsed.Mods.FirstOrDefault(m => m.Argument == argument) is { } m ? plan.DeclaringType + "." + m.Method : null;
        string TensorArguments(string argument) => node.Parsed.Mods.FirstOrDefault(m => m.Argument == argument) is { } m
            ? string.Concat(m.Tensors.Select(t => KernelAnalyzer.ModTensorArgument(modTensors[slots.IndexOf(t.Name)].IsFloat, slots.IndexOf(t.Name))))
            : "";
        string? scoreMod = Mod(KernelParser.ScoreModArgument), maskMod = Mod(KernelParser.MaskModArgument);
        var (alibi, softCap) = KernelAnalyzer.BuiltInScoreMods(NumberArguments(node), []);
        string mods = (scoreMod is null ? "" : $", score modifier {scoreMod.Substring(scoreMod.LastIndexOf('.') + 1)}") +
                      (alibi ? ", ALiBi" : "") +
                      (softCap > 0 ? $", soft-capped at {softCap.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "") +
                      (maskMod is null ? "" : $", mask modifier {maskMod.Substring(maskMod.LastIndexOf('.') + 1)}");
        string masks = (attnMask is null ? "" : $", {maskTensor.ToString().ToLowerInvariant()} attnMask {attnMask}") + (documents is null ? "" : $", document ids {documents}") + (prefix is null ? "" : $", prefix-LM by {prefix}") +
                       (slots.Count == 0 ? "" : $", modifiers read {string.Join(", ", slots)}");
        plan.Steps.Add(new AttentionStep(output, packed, s.HeadDim, s.Heads, s.KvHeads, s.Mask, s.Window, s.Scale, padding,
            $"{output} = attention({packed}): {s.Heads} heads (KV {s.KvHeads}) of {s.HeadDim}, {s.Mask} mask{(padding is null ? "" : $", keys padded by {padding}")}{masks}{mods}, heads read in place from the packed projection")
        {
            ScoreMod = scoreMod,
            MaskMod = maskMod,
            Alibi = alibi,
            SoftCap = softCap,
            DocumentIds = documents,
            PrefixLengths = prefix,
            AttnMask = attnMask,
            MaskTensor = maskTensor,
            ModTensors = modTensors,
            ScoreModTensors = scoreMod is null ? "" : TensorArguments(KernelParser.ScoreModArgument),
            MaskModTensors = maskMod is null ? "" : TensorArguments(KernelParser.MaskModArgument),
        });
    }
}

internal sealed record AttentionStep(string Output, string Input, int HeadDim, int Heads, int KvHeads, MaskKind Mask, int Window, double Scale, string? KeyPadding, string Explanation)
    : ModelStep(Output, Heads * HeadDim, false, Explanation, -1)
{
    public override IEnumerable<string> Reads => [Input];

    /// <summary>The Tensor&lt;int&gt; parameter of document ids [B, T] (the built-in document mask), or null.</summary>
    public string? DocumentIds { get; init; }

    /// <summary>The Tensor&lt;int&gt; parameter of prefix lengths [B] (the built-in prefix-LM mask), or null.</summary>
    public string? PrefixLengths { get; init; }

    /// <summary>The Tensor&lt;bool&gt; or Tensor&lt;float&gt; parameter that is the node's attnMask (<see cref="MaskTensor"/> says which), or null.</summary>
    public string? AttnMask { get; init; }

    /// <summary>Boolean or additive with an <see cref="AttnMask"/>, else None.</summary>
    public MaskTensorKind MaskTensor { get; init; }

    /// <summary>The parameters the modifiers read, in slot order (named as in the graph method; float or int).</summary>
    public EquatableArray<ModTensorInfo> ModTensors { get; init; } = EquatableArray<ModTensorInfo>.Empty;

    /// <summary>The score modifier call's tensor arguments (", tensors.Float0" …), as <see cref="AttentionNode.ScoreModTensors"/>.</summary>
    public string ScoreModTensors { get; init; } = "";

    /// <summary>The mask modifier call's tensor arguments, as <see cref="AttentionNode.MaskModTensors"/>.</summary>
    public string MaskModTensors { get; init; } = "";

    /// <summary>Whether the launch carries tensors beyond q|k|v (then it goes through GraphOps.PackedAttention).</summary>
    private bool ReadsData => KeyPadding is not null || DocumentIds is not null || PrefixLengths is not null || AttnMask is not null || ModTensors.Count > 0;

    public int PackedFeatures => (Heads + 2 * KvHeads) * HeadDim;

    /// <summary>The score modifier's call target (the model class's method, fully qualified), or null.</summary>
    public string? ScoreMod { get; init; }

    /// <summary>The mask modifier's call target, or null.</summary>
    public string? MaskMod { get; init; }

    /// <summary>Built-in ALiBi (as on a kernel declaration).</summary>
    public bool Alibi { get; init; }

    /// <summary>Built-in soft-capping of the scores (0: none).</summary>
    public double SoftCap { get; init; }

    public override string Kind => "Attention";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{s.NextAttentionClass()}.Run({s.Id(Input)}, {s.Id(Output)}, batch, length{(KeyPadding is null ? "" : ", " + s.Lengths(KeyPadding))}" +
                 (DocumentIds is null ? "" : ", " + s.Id(DocumentIds)) + (PrefixLengths is null ? "" : ", " + s.Id(PrefixLengths)) +
                 string.Concat(ModTensors.Select(t => ", " + s.Id(t.Name))) + (AttnMask is null ? "" : ", " + s.Id(AttnMask)) + ");");

    /// <summary>
    /// The attnMask broadcasts to [B, H, T, T] of this step's heads: checked with the inputs, before any step runs, naming the
    /// caller's parameter and both shapes (one parameter may serve nodes of different head counts).
    /// </summary>
    public override void WriteChecks(StepWriter s)
    {
        if (AttnMask is not null)
            s.W.Line($"{Names.TensorShape}.ExpectMask({s.Id(AttnMask)}, nameof({s.Id(AttnMask)}), batch, {Heads}, length, length, device);");
    }

    public override string Cost(StepWriter s) => $"{s.NextAttentionClass()}.Cost(batch, length, length)";

    public override void WriteMembers(StepWriter s)
    {
        var w = s.W;
        string className = s.NextAttentionClass();
        // Named like a kernel declaration ({Name}Kernel is the struct), so the emitter's references to the struct hold.
        var node = new AttentionNode(className.Substring(0, className.Length - "Kernel".Length), new[] { Input }.ToEquatableArray(), new[] { Output }.ToEquatableArray(),
            HeadDim, Heads, KvHeads, Mask, Window, Scale, LayoutKind.PackedQkv, HasLogSumExp: false, ScoreMod: ScoreMod, MaskMod: MaskMod, Alibi: Alibi, SoftCap: SoftCap,
            MaskTensor: MaskTensor, DocumentMask: DocumentIds is not null, PrefixLm: PrefixLengths is not null, ModTensors: ModTensors,
            ScoreModTensors: ScoreModTensors, MaskModTensors: MaskModTensors);
        w.Line();
        w.Line($"/// <summary>Fused self-attention of step '{Output}', reading q, k and v heads in place from the packed projection '{Input}'.</summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"private readonly struct {className} : {Names.AttentionKernel}");
        AttentionEmitter.WriteConstants(w, node);
        AttentionEmitter.WriteCost(w, node);
        AttentionEmitter.WriteKernelContract(w, node);
        if (ModTensors.Count > 0)
        {
            // A bad modifier-tensor read names the graph's step and method, not only this generated struct.
            string origin = $"attention step '{Output}' of graph method {s.Method}".Replace("\\", "\\\\").Replace("\"", "\\\"");
            w.Line($"static string? {Names.AttentionKernel}.Origin => \"{origin}\";");
        }
        w.Line("/// <summary>Runs the kernel on the tensors' device over [batch, length] rows of packed q|k|v, writing [batch, length, Heads·HeadDim].</summary>");
        if (!ReadsData)
        {
            w.Open($"public static void Run({Names.Tensor} packed, {Names.Tensor} output, int batch, int length)");
            w.Line("// q, k and v are the same tensor: the kernels address the heads inside each packed row (no split, no copy).");
            w.Line($"packed.Device.RunAttention<{className}, float>(new {Names.Runtime}.AttentionLaunch<float>(packed, packed, packed, output, null, batch, length, length));");
        }
        else
        {
            // The tensors arrive checked by the graph method (shapes named by the caller's parameters).
            string parameters = (KeyPadding is null ? "" : $", {Names.Runtime}.Tensor<int> keyLengths") +
                                (DocumentIds is null ? "" : $", {Names.Runtime}.Tensor<int> documentIds") +
                                (PrefixLengths is null ? "" : $", {Names.Runtime}.Tensor<int> prefixLengths") +
                                string.Concat(ModTensors.Select((t, i) => $", {(t.IsFloat ? Names.Tensor : Names.Runtime + ".Tensor<int>")} modTensor{i}")) +
                                (MaskTensor switch { MaskTensorKind.Boolean => $", {Names.BoolTensor} attnMask", MaskTensorKind.Additive => $", {Names.Tensor} attnMask", _ => "" });
            w.Open($"public static void Run({Names.Tensor} packed, {Names.Tensor} output, int batch, int length{parameters})");
            w.Line(KeyPadding is null
                ? "// q, k and v are the same tensor, read in place; the launch carries the tensors the node's masks and modifiers read."
                : "// q, k and v are the same tensor, read in place; keys at or past a row's length are never visited.");
            w.Line($"{StepWriter.Ops}.PackedAttention<{className}>(packed, output, batch, length, {(KeyPadding is null ? "null" : "keyLengths")}" +
                   (DocumentIds is null ? "" : ", documentIds: documentIds") + (PrefixLengths is null ? "" : ", prefixLengths: prefixLengths") +
                   (ModTensors.Count == 0 ? "" : $", modTensors: new {Names.Runtime}.ModTensorArgs({string.Join(", ", ModTensors.Select((_, i) => $"modTensor{i}"))})") +
                   (MaskTensor switch { MaskTensorKind.Boolean => ", booleanMask: attnMask", MaskTensorKind.Additive => ", additiveMask: attnMask", _ => "" }) + ");");
        }
        w.Close();
        w.Line();
        AttentionEmitter.WriteCpuLaunch(w, node);
        AttentionEmitter.WriteCpuKernel(w, node);
        w.Close();
    }
}

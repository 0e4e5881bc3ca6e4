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

    public override IReadOnlyList<string> OptionalRoles { get; } = ["KeyPadding"];

    public override IntRole? IntInput(string role) => role == "KeyPadding" ? IntRole.Padding : null;

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
        var settings = KernelAnalyzer.ValidateAttention(arguments, node.Parsed.Location, c.Diagnostics, node.Kind);
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

    private static KernelAnalyzer.AttentionSettings Settings(GraphAnalyzer.Node node) =>
        KernelAnalyzer.ValidateAttention(node.Parsed.Arguments.Where(a => a.Number is not null).ToDictionary(a => a.Name, a => (a.Number!.Value, a.Location)),
            node.Parsed.Location, []);

    private static void AddAttention(GraphAnalyzer.Node node, GraphAnalyzer.Planner plan, string output, string packed)
    {
        var s = Settings(node);
        string? padding = node.Inputs.FirstOrDefault(i => i.Role == "KeyPadding").Value;
        // Called fully qualified from the nested kernel struct, so no member of the struct (Mask, Scale…) can shadow them.
        string? Mod(string argument) => node.Parsed.Mods.FirstOrDefault(m => m.Argument == argument) is { } m ? plan.DeclaringType + "." + m.Method : null;
        string? scoreMod = Mod(KernelParser.ScoreModArgument), maskMod = Mod(KernelParser.MaskModArgument);
        string mods = (scoreMod is null ? "" : $", score modifier {scoreMod.Substring(scoreMod.LastIndexOf('.') + 1)}") +
                      (maskMod is null ? "" : $", mask modifier {maskMod.Substring(maskMod.LastIndexOf('.') + 1)}");
        plan.Steps.Add(new AttentionStep(output, packed, s.HeadDim, s.Heads, s.KvHeads, s.Mask, s.Window, s.Scale, padding,
            $"{output} = attention({packed}): {s.Heads} heads (KV {s.KvHeads}) of {s.HeadDim}, {s.Mask} mask{(padding is null ? "" : $", keys padded by {padding}")}{mods}, heads read in place from the packed projection")
        {
            ScoreMod = scoreMod,
            MaskMod = maskMod,
        });
    }
}

internal sealed record AttentionStep(string Output, string Input, int HeadDim, int Heads, int KvHeads, MaskKind Mask, int Window, double Scale, string? KeyPadding, string Explanation)
    : ModelStep(Output, Heads * HeadDim, false, Explanation, -1)
{
    public override IEnumerable<string> Reads => [Input];

    public int PackedFeatures => (Heads + 2 * KvHeads) * HeadDim;

    /// <summary>The score modifier's call target (the model class's method, fully qualified), or null.</summary>
    public string? ScoreMod { get; init; }

    /// <summary>The mask modifier's call target, or null.</summary>
    public string? MaskMod { get; init; }

    public override string Kind => "Attention";

    public override void WriteRun(StepWriter s) =>
        s.W.Line($"{s.NextAttentionClass()}.Run({s.Id(Input)}, {s.Id(Output)}, batch, length{(KeyPadding is null ? "" : ", " + s.Lengths(KeyPadding))});");

    public override string Cost(StepWriter s) => $"{s.NextAttentionClass()}.Cost(batch, length, length)";

    public override void WriteMembers(StepWriter s)
    {
        var w = s.W;
        string className = s.NextAttentionClass();
        // Named like a kernel declaration ({Name}Kernel is the struct), so the emitter's references to the struct hold.
        var node = new AttentionNode(className.Substring(0, className.Length - "Kernel".Length), new[] { Input }.ToEquatableArray(), new[] { Output }.ToEquatableArray(),
            HeadDim, Heads, KvHeads, Mask, Window, Scale, LayoutKind.PackedQkv, HasLogSumExp: false, ScoreMod: ScoreMod, MaskMod: MaskMod);
        w.Line();
        w.Line($"/// <summary>Fused self-attention of step '{Output}', reading q, k and v heads in place from the packed projection '{Input}'.</summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"private readonly struct {className} : {Names.AttentionKernel}");
        AttentionEmitter.WriteConstants(w, node);
        AttentionEmitter.WriteCost(w, node);
        AttentionEmitter.WriteKernelContract(w, node);
        w.Line("/// <summary>Runs the kernel on the tensors' device over [batch, length] rows of packed q|k|v, writing [batch, length, Heads·HeadDim].</summary>");
        if (KeyPadding is null)
        {
            w.Open($"public static void Run({Names.Tensor} packed, {Names.Tensor} output, int batch, int length)");
            w.Line("// q, k and v are the same tensor: the kernels address the heads inside each packed row (no split, no copy).");
            w.Line($"packed.Device.RunAttention<{className}, float>(new {Names.Runtime}.AttentionLaunch<float>(packed, packed, packed, output, null, batch, length, length));");
        }
        else
        {
            w.Open($"public static void Run({Names.Tensor} packed, {Names.Tensor} output, int batch, int length, {Names.Runtime}.Tensor<int> keyLengths)");
            w.Line("// q, k and v are the same tensor, read in place; keys at or past a row's length are never visited.");
            w.Line($"{StepWriter.Ops}.PackedAttention<{className}>(packed, output, batch, length, keyLengths);");
        }
        w.Close();
        w.Line();
        AttentionEmitter.WriteCpuLaunch(w, node);
        AttentionEmitter.WriteCpuKernel(w, node);
        w.Close();
    }
}

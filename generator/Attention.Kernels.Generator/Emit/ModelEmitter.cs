using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Emit;

/// <summary>
/// Writes one graph method of an [AttentionModel] class: its weight layout and weights, the method body that checks
/// shapes and runs the planned (fused) steps through the runtime's GraphOps on the inputs' device (the CPU or an ILGPU accelerator),
/// its cost model ({Method}Cost), and one nested kernel struct per attention step (constants, CPU kernel; accelerators specialize on it).
/// </summary>
internal static class ModelEmitter
{
    private const string Ops = Names.Runtime + ".GraphOps";
    private const string NodeCost = Names.Runtime + ".NodeCost";
    private const string WeightSpec = Names.Runtime + ".WeightSpec";
    private const string ModelWeights = Names.Runtime + ".ModelWeights";

    public static void Emit(CodeWriter w, ModelDeclaration model)
    {
        var method = model.Method;
        var graph = model.Graph;
        string name = method.Name;
        string statics = model.IsStatic ? "static " : "";
        long parameterCount = graph.Weights.Sum(x => x.Shape.Aggregate(1L, (a, b) => a * b));

        w.Line($"/// <summary>The learned tensors of <see cref=\"{name}\"/> ({parameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters), in the order its kernels read them.</summary>");
        w.Line(Names.GeneratedCode);
        w.Line($"public static global::System.Collections.Generic.IReadOnlyList<{WeightSpec}> {name}WeightLayout {{ get; }} = new {WeightSpec}[]");
        w.Line("{");
        foreach (var weight in graph.Weights)
            w.Line($"    new(\"{weight.Node}\", \"{weight.Name}\", new[] {{ {string.Join(", ", weight.Shape)} }}, \"{weight.Description}\"),");
        w.Line("};");
        w.Line();
        w.Line($"private {statics}{ModelWeights}? _{Camel(name)}Weights;");
        w.Line();
        w.Line($"/// <summary>Weights of <see cref=\"{name}\"/>: load each (<c>Load(node, name, values)</c>) or opt in to <c>InitializeRandom(seed)</c> / <c>InitializeZeros()</c>; a call with a weight never loaded throws, naming it.</summary>");
        w.Line(Names.GeneratedCode);
        w.Line($"public {statics}{ModelWeights} {name}Weights =>");
        w.Line($"    global::System.Threading.LazyInitializer.EnsureInitialized(ref _{Camel(name)}Weights, static () => new {ModelWeights}({name}WeightLayout));");
        w.Line();

        WriteCost(w, model);
        w.Line();
        WriteRemarks(w, graph, name, parameterCount);
        w.Line(Names.GeneratedCode);
        w.Open($"{AttentionEmitter.Modifiers(method)}{statics}partial void {name}({AttentionEmitter.Signature(method)})");
        WriteBody(w, model);
        w.Close();

        int attentionIndex = 0;
        foreach (var step in graph.Steps.OfType<AttentionStep>())
        {
            w.Line();
            WriteAttentionKernel(w, AttentionClass(name, attentionIndex++), step);
        }
    }

    private static void WriteRemarks(CodeWriter w, ModelGraph graph, string name, long parameterCount)
    {
        w.Line("/// <remarks>");
        w.Line($"/// <para><b>Attention graph</b> (generated): {graph.Steps.Count} steps, run on the device of the inputs (the CPU, or an ILGPU accelerator), in this order:</para>");
        w.Line("/// <list type=\"number\">");
        foreach (var step in graph.Steps)
            w.Line($"/// <item><description>{Xml(step.Explanation)}</description></item>");
        w.Line("/// </list>");
        foreach (string note in graph.FusionNotes)
            w.Line($"/// <para>{Xml(note)}</para>");
        w.Line($"/// <para>Weights: <see cref=\"{name}WeightLayout\"/>, {parameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters (copied once to each device they run on). Cost model: <see cref=\"{name}Cost\"/>.</para>");
        w.Line("/// </remarks>");
    }

    private static void WriteBody(CodeWriter w, ModelDeclaration model)
    {
        var graph = model.Graph;
        var Id = Identifiers(model.Method);
        var shapes = new Dictionary<string, GraphValue>();
        foreach (var input in graph.Inputs)
            shapes[input.Name] = input;
        var first = graph.Inputs.First(i => !i.IsOffsets);

        w.Line("// Batch and length come from the tensors at each call; feature counts were fixed at compile time.");
        w.Line($"{Names.TensorShape}.ExpectRank({first.Name}, nameof({first.Name}), \"{Shape(first)}\", 3);");
        w.Line($"int batch = {first.Name}.Dim(0), length = {first.Name}.Dim(1);");
        w.Line($"var device = {first.Name}.Device;");
        foreach (var input in graph.Inputs)
            WriteCheck(w, input, input.Name);
        foreach (var output in graph.Outputs)
            WriteCheck(w, output, output.Name);
        w.Line();
        w.Line("// Host memory on the CPU; elsewhere a copy made on first use and kept until the weights change.");
        w.Line($"var weights = {model.Method.Name}Weights.On(device);");
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name));
        int attentionIndex = 0;
        int stepNumber = 0;
        foreach (var step in graph.Steps)
        {
            stepNumber++;
            w.Line();
            w.Line($"// {stepNumber}. {step.Explanation}");
            string target = Id(step.Output);
            if (!outputs.Contains(step.Output))
                w.Line(step.Pooled
                    ? $"using var {target} = {Names.Runtime}.Tensor.Create<float>(device, batch, {step.Features});"
                    : $"using var {target} = {Names.Runtime}.Tensor.Create<float>(device, batch, length, {step.Features});");
            shapes[step.Output] = new GraphValue(step.Output, step.Features, step.Pooled, false);
            WriteStep(w, step, shapes, Id, ref attentionIndex, model.Method.Name);
        }
    }

    private static void WriteCheck(CodeWriter w, GraphValue value, string parameter)
    {
        if (value.IsOffsets)
        {
            w.Line($"{Names.TensorShape}.ExpectRank({parameter}, nameof({parameter}), \"[B, S + 1]\", 2);");
            w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"[B, S + 1]\", batch, {parameter}.Dim(1));");
        }
        else if (value.Pooled)
        {
            w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"{Shape(value)}\", batch, {value.Features});");
        }
        else
        {
            w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"{Shape(value)}\", batch, length, {value.Features});");
        }
        w.Line($"{Names.TensorShape}.ExpectDevice({parameter}, nameof({parameter}), device);");
    }

    private static void WriteStep(CodeWriter w, ModelStep step, Dictionary<string, GraphValue> shapes, System.Func<string, string> Id,
        ref int attentionIndex, string method)
    {
        string Rows(string value) => shapes[value].Pooled ? "batch" : "batch * length";
        string Weight(int index) => $"weights[{index}]";
        string Count(string value) => $"(long)({Rows(value)}) * {shapes[value].Features}";
        string Activation(int value) => $"{Names.Runtime}.Activation.{(value == 2 ? "Gelu" : value == 1 ? "Relu" : "None")}";

        switch (step)
        {
            case LinearStep s:
                w.Line($"{Ops}.Linear({Id(s.Input)}, {Rows(s.Input)}, {s.InFeatures}, {Weight(s.FirstWeight)}, {(s.Bias ? Weight(s.FirstWeight + 1) : None)}, {s.OutFeatures}, {Id(s.Output)}, {Activation(s.Activation)}, {(s.Residual is null ? "null" : Id(s.Residual))});");
                break;
            case AddStep s:
                w.Line($"{Ops}.Add({Id(s.Left)}, {Id(s.Right)}, {Count(s.Left)}, {Id(s.Output)});");
                break;
            case ActivationStep s:
                w.Line($"{Ops}.Activate({Id(s.Input)}, {Count(s.Input)}, {Activation(s.Activation)}, {Id(s.Output)});");
                break;
            case NormStep s when s.Rms:
                w.Line($"{Ops}.RmsNorm({Id(s.Input)}, {Rows(s.Input)}, {s.Width}, {Weight(s.FirstWeight)}, {Names.Float(s.Epsilon)}, {Id(s.Output)});");
                break;
            case NormStep s:
                w.Line($"{Ops}.LayerNorm({Id(s.Input)}, {Rows(s.Input)}, {s.Width}, {Weight(s.FirstWeight)}, {Weight(s.FirstWeight + 1)}, {Names.Float(s.Epsilon)}, {Id(s.Output)});");
                break;
            case AttentionStep s:
                w.Line($"{AttentionClass(method, attentionIndex++)}.Run({Id(s.Input)}, {Id(s.Output)}, batch, length);");
                break;
            case PoolingStep s:
                w.Line($"{Ops}.AttentionPooling({Id(s.Input)}, batch, length, {s.Width}, {PoolingWeights(s.FirstWeight, s.Hidden)}, {Id(s.Output)});");
                break;
            case HierarchicalStep s:
            {
                int second = s.FirstWeight + (s.WordHidden == 0 ? 1 : 3);
                w.Line($"{Ops}.HierarchicalAttention({Id(s.Input)}, batch, length, {s.Width}, {s.Segments}, {s.Segments}.Dim(1) - 1,");
                w.Line($"    {PoolingWeights(s.FirstWeight, s.WordHidden)}, {PoolingWeights(second, s.SegmentHidden)}, {Id(s.Output)});");
                break;
            }
            case SqueezeStep s:
                w.Line($"{Ops}.SqueezeExcitation({Id(s.Input)}, batch, length, {s.Channels}, {Weight(s.FirstWeight)}, {Weight(s.FirstWeight + 1)}, {s.Reduced}, {Weight(s.FirstWeight + 2)}, {Weight(s.FirstWeight + 3)}, {Id(s.Output)});");
                break;
            case PositionalStep s:
                w.Line($"{Ops}.PositionalWeighting({Id(s.Input)}, batch, length, {s.Width}, {Weight(s.FirstWeight)}, {s.MaxLength}, {Id(s.Output)});");
                break;
            case MixStep s:
                w.Line($"{Ops}.LayerwiseMix(new {Names.Tensor}[] {{ {string.Join(", ", s.Inputs.Select(Id))} }}, {Count(s.Inputs[0])}, {Weight(s.FirstWeight)}, {Weight(s.FirstWeight + 1)}, {Id(s.Output)});");
                break;
        }
    }

    private const string None = Names.Runtime + ".GraphWeight.None";

    /// <summary>u, W, b, hidden arguments of a pooling op: weights are [u] or [W, b, u].</summary>
    private static string PoolingWeights(int first, int hidden) => hidden == 0
        ? $"weights[{first}], {None}, {None}, 0"
        : $"weights[{first + 2}], weights[{first}], weights[{first + 1}], {hidden}";

    /// <summary>
    /// <c>{Method}Cost(batch, length[, segments])</c>: the graph's cost model, one <c>StepCost</c> per step from the runtime's
    /// NodeCost (attention steps from their kernel class's Cost), in execution order.
    /// </summary>
    private static void WriteCost(CodeWriter w, ModelDeclaration model)
    {
        var graph = model.Graph;
        string name = model.Method.Name;
        bool hasSegments = graph.Steps.OfType<HierarchicalStep>().Any();
        var shapes = new Dictionary<string, GraphValue>();
        foreach (var input in graph.Inputs)
            shapes[input.Name] = input;
        string Rows(string value) => shapes[value].Pooled ? "batch" : "(long)batch * length";
        string Count(string value) => $"{Rows(value)} * {shapes[value].Features}";
        string Activation(int value) => $"{Names.Runtime}.Activation.{(value == 2 ? "Gelu" : value == 1 ? "Relu" : "None")}";

        w.Line("/// <summary>");
        w.Line($"/// Cost model of <see cref=\"{name}\"/> for one run at these sizes: FLOPs, compulsory bytes (weights included) and scratch");
        w.Line("/// of every step, in execution order, and their total. Sizes that only the data knows (segment lengths) are upper bounds.");
        w.Line("/// </summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"public static {Names.Runtime}.GraphCost {name}Cost(int batch, int length{(hasSegments ? ", int segments" : "")})");
        w.Line($"return new {Names.Runtime}.GraphCost(new {Names.Runtime}.StepCost[]");
        w.Line("{");
        w.Indent();
        int attentionIndex = 0;
        foreach (var step in graph.Steps)
        {
            string cost = step switch
            {
                LinearStep s => $"{NodeCost}.Linear({Rows(s.Input)}, {s.InFeatures}, {s.OutFeatures}, {(s.Bias ? "true" : "false")}, {Activation(s.Activation)}, {(s.Residual is null ? "false" : "true")})",
                AddStep s => $"{NodeCost}.Add({Count(s.Left)})",
                ActivationStep s => $"{NodeCost}.Activate({Count(s.Input)}, {Activation(s.Activation)})",
                NormStep s => $"{NodeCost}.Norm({Rows(s.Input)}, {s.Width}, rms: {(s.Rms ? "true" : "false")})",
                AttentionStep => $"{AttentionClass(name, attentionIndex++)}.Cost(batch, length, length)",
                PoolingStep s => $"{NodeCost}.AttentionPooling((long)batch * length, batch, {s.Width}, {s.Hidden})",
                HierarchicalStep s => $"{NodeCost}.HierarchicalAttention(batch, length, {s.Width}, segments, {s.WordHidden}, {s.SegmentHidden})",
                SqueezeStep s => $"{NodeCost}.SqueezeExcitation(batch, length, {s.Channels}, {s.Reduced})",
                PositionalStep s => $"{NodeCost}.PositionalWeighting(batch, length, {s.Width})",
                MixStep s => $"{NodeCost}.LayerwiseMix({s.Inputs.Count}, {Count(s.Inputs[0])})",
                _ => $"default({Names.KernelCost})",
            };
            w.Line($"new(\"{step.Output}\", \"{Kind(step)}\", {cost}),");
            shapes[step.Output] = new GraphValue(step.Output, step.Features, step.Pooled, false);
        }
        w.Unindent();
        w.Line("});");
        w.Close();
    }

    private static string Kind(ModelStep step) => step switch
    {
        LinearStep => "Linear",
        AddStep => "Residual",
        ActivationStep s => s.Activation == 2 ? "Gelu" : "Relu",
        NormStep s => s.Rms ? "RmsNorm" : "LayerNorm",
        AttentionStep => "Attention",
        PoolingStep => "AttentionPooling",
        HierarchicalStep => "HierarchicalAttention",
        SqueezeStep => "SqueezeExcitation",
        PositionalStep => "PositionalWeighting",
        MixStep => "LayerwiseAdaptive",
        _ => step.GetType().Name,
    };

    private static void WriteAttentionKernel(CodeWriter w, string className, AttentionStep step)
    {
        var node = new AttentionNode(step.Output, new[] { step.Input }.ToEquatableArray(), new[] { step.Output }.ToEquatableArray(),
            step.HeadDim, step.Heads, step.KvHeads, step.Mask, step.Window, step.Scale, LayoutKind.PackedQkv, HasLogSumExp: false);
        w.Line($"/// <summary>Fused self-attention of step '{step.Output}', reading q, k and v heads in place from the packed projection '{step.Input}'.</summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"private readonly struct {className} : {Names.AttentionKernel}");
        AttentionEmitter.WriteConstants(w, node);
        AttentionEmitter.WriteCost(w, node);
        AttentionEmitter.WriteKernelContract(w, node);
        w.Line("/// <summary>Runs the kernel on the tensors' device over [batch, length] rows of packed q|k|v, writing [batch, length, Heads·HeadDim].</summary>");
        w.Open($"public static void Run({Names.Tensor} packed, {Names.Tensor} output, int batch, int length)");
        w.Line("// q, k and v are the same tensor: the kernels address the heads inside each packed row (no split, no copy).");
        w.Line($"packed.Device.RunAttention<{className}, float>(new {Names.Runtime}.AttentionLaunch<float>(packed, packed, packed, output, null, batch, length, length));");
        w.Close();
        w.Line();
        AttentionEmitter.WriteCpuLaunch(w, node);
        AttentionEmitter.WriteCpuKernel(w, node);
        w.Close();
    }

    private static string AttentionClass(string method, int index) => $"{method}Attention{index + 1}";

    private static string Shape(GraphValue value) => value.Pooled ? $"[B, {value.Features}]" : $"[B, T, {value.Features}]";

    /// <summary>C# identifiers for values: parameters keep their names, intermediates get a "v_" prefix ('.' → '_').</summary>
    private static System.Func<string, string> Identifiers(KernelMethodInfo method)
    {
        var parameters = new HashSet<string>(method.Parameters.Select(p => p.Name));
        return value =>
        {
            if (parameters.Contains(value))
                return value;
            var text = new StringBuilder("v_");
            foreach (char c in value)
                text.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
            return text.ToString();
        };
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name.Substring(1);

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}

using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Emit;

/// <summary>
/// Writes one graph method of an [AttentionModel] class: its weight layout and weights, the method body that checks
/// shapes and runs the planned (fused) steps on the CPU backend, and one nested kernel class per attention step.
/// </summary>
internal static class ModelEmitter
{
    private const string Ops = Names.Runtime + ".Cpu.CpuOps";
    private const string Pointer = Names.Runtime + ".Cpu.CpuTensor.Pointer";
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
        w.Line($"/// <summary>Weights of <see cref=\"{name}\"/>: zero until loaded (<c>Load(node, name, values)</c>) or <c>InitializeRandom(seed)</c>.</summary>");
        w.Line(Names.GeneratedCode);
        w.Line($"public {statics}{ModelWeights} {name}Weights =>");
        w.Line($"    global::System.Threading.LazyInitializer.EnsureInitialized(ref _{Camel(name)}Weights, static () => new {ModelWeights}({name}WeightLayout));");
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
        w.Line($"/// <para><b>Attention graph</b> (generated): {graph.Steps.Count} kernel launches on the CPU backend, in this order:</para>");
        w.Line("/// <list type=\"number\">");
        foreach (var step in graph.Steps)
            w.Line($"/// <item><description>{Xml(step.Explanation)}</description></item>");
        w.Line("/// </list>");
        foreach (string note in graph.FusionNotes)
            w.Line($"/// <para>{Xml(note)}</para>");
        w.Line($"/// <para>Weights: <see cref=\"{name}WeightLayout\"/>, {parameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters.</para>");
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
        w.Open($"if (device.Kind != {Names.DeviceKind}.Cpu)");
        w.Line($"throw new global::System.NotSupportedException($\"{model.Method.Name}: model graphs run on the CPU backend in this version; {{device}} has no graph kernels yet. Copy the inputs to Device.Cpu.\");");
        w.Close();
        w.Line();
        w.Open("unsafe");
        w.Line($"var weights = {model.Method.Name}Weights;");
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
        w.Line();
        w.Line("// The tensors own the memory the kernels read through raw pointers: keep them alive until here.");
        foreach (var parameter in model.Method.Parameters)
            w.Line($"global::System.GC.KeepAlive({parameter.Name});");
        w.Close();
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
        string P(string value) => $"{Pointer}({Id(value)})";
        string Rows(string value) => shapes[value].Pooled ? "batch" : "batch * length";
        string Weight(int index) => $"weights.Pointer({index})";
        string Count(string value) => $"(long)({Rows(value)}) * {shapes[value].Features}";
        string Activation(int value) => $"{Names.Runtime}.Activation.{(value == 2 ? "Gelu" : value == 1 ? "Relu" : "None")}";

        switch (step)
        {
            case LinearStep s:
                w.Line($"{Ops}.Linear({P(s.Input)}, {Rows(s.Input)}, {s.InFeatures}, {Weight(s.FirstWeight)}, {(s.Bias ? Weight(s.FirstWeight + 1) : "null")}, {s.OutFeatures}, {P(s.Output)}, {Activation(s.Activation)}, {(s.Residual is null ? "null" : P(s.Residual))});");
                break;
            case AddStep s:
                w.Line($"{Ops}.Add({P(s.Left)}, {P(s.Right)}, {Count(s.Left)}, {P(s.Output)});");
                break;
            case ActivationStep s:
                w.Line($"{Ops}.Activate({P(s.Input)}, {Count(s.Input)}, {Activation(s.Activation)}, {P(s.Output)});");
                break;
            case NormStep s when s.Rms:
                w.Line($"{Ops}.RmsNorm({P(s.Input)}, {Rows(s.Input)}, {s.Width}, {Weight(s.FirstWeight)}, {Names.Float(s.Epsilon)}, {P(s.Output)});");
                break;
            case NormStep s:
                w.Line($"{Ops}.LayerNorm({P(s.Input)}, {Rows(s.Input)}, {s.Width}, {Weight(s.FirstWeight)}, {Weight(s.FirstWeight + 1)}, {Names.Float(s.Epsilon)}, {P(s.Output)});");
                break;
            case AttentionStep s:
                w.Line($"{AttentionClass(method, attentionIndex++)}.Run({P(s.Input)}, {P(s.Output)}, batch, length);");
                break;
            case PoolingStep s:
                w.Line($"{Ops}.AttentionPooling({P(s.Input)}, batch, length, {s.Width}, {PoolingWeights(s.FirstWeight, s.Hidden)}, {P(s.Output)});");
                break;
            case HierarchicalStep s:
            {
                int second = s.FirstWeight + (s.WordHidden == 0 ? 1 : 3);
                w.Line($"{Ops}.HierarchicalAttention({P(s.Input)}, batch, length, {s.Width}, {Pointer}({s.Segments}), {s.Segments}.Dim(1) - 1,");
                w.Line($"    {PoolingWeights(s.FirstWeight, s.WordHidden)}, {PoolingWeights(second, s.SegmentHidden)}, {P(s.Output)});");
                break;
            }
            case SqueezeStep s:
                w.Line($"{Ops}.SqueezeExcitation({P(s.Input)}, batch, length, {s.Channels}, {Weight(s.FirstWeight)}, {Weight(s.FirstWeight + 1)}, {s.Reduced}, {Weight(s.FirstWeight + 2)}, {Weight(s.FirstWeight + 3)}, {P(s.Output)});");
                break;
            case PositionalStep s:
                w.Line($"{Ops}.PositionalWeighting({P(s.Input)}, batch, length, {s.Width}, {Weight(s.FirstWeight)}, {s.MaxLength}, {P(s.Output)});");
                break;
            case MixStep s:
                w.Line($"global::System.ReadOnlySpan<nint> {Id(s.Output)}Layers = stackalloc nint[] {{ {string.Join(", ", s.Inputs.Select(i => $"(nint){P(i)}"))} }};");
                w.Line($"{Ops}.LayerwiseMix({Id(s.Output)}Layers, {Count(s.Inputs[0])}, {Weight(s.FirstWeight)}, *{Weight(s.FirstWeight + 1)}, {P(s.Output)});");
                break;
        }
    }

    /// <summary>u, W, b, hidden arguments of a pooling op: weights are [u] or [W, b, u].</summary>
    private static string PoolingWeights(int first, int hidden) => hidden == 0
        ? $"weights.Pointer({first}), null, null, 0"
        : $"weights.Pointer({first + 2}), weights.Pointer({first}), weights.Pointer({first + 1}), {hidden}";

    private static void WriteAttentionKernel(CodeWriter w, string className, AttentionStep step)
    {
        var node = new AttentionNode(step.Output, new[] { step.Input }.ToEquatableArray(), new[] { step.Output }.ToEquatableArray(),
            step.HeadDim, step.Heads, step.KvHeads, step.Mask, step.Window, step.Scale, LayoutKind.PackedQkv, HasLogSumExp: false);
        w.Line($"/// <summary>Fused self-attention of step '{step.Output}', reading q, k and v heads in place from the packed projection '{step.Input}'.</summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"private static class {className}");
        AttentionEmitter.WriteConstants(w, node);
        w.Line("/// <summary>Runs the kernel over [batch, length] rows of packed q|k|v, writing [batch, length, Heads·HeadDim].</summary>");
        w.Line("public static unsafe void Run(float* packed, float* output, int batch, int length) =>");
        w.Line("    RunCpuKernel(packed, packed, packed, output, null, batch, length, length);");
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

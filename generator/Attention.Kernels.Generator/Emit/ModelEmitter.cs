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

        var members = new StepWriter(w, name, Identifiers(method), new Dictionary<string, GraphValue>(), forCost: false);
        foreach (var step in graph.Steps)
            step.WriteMembers(members);
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
        // A tensor read by modifiers only has no [B, T] axes of its own: batch and length come from a sequence.
        var first = graph.Inputs.FirstOrDefault(i => !i.IsInt && !i.AnyShape) ?? graph.Inputs.First(i => i.Int == IntRole.Ids);
        w.Line("// Batch and length come from the tensors at each call; feature counts were fixed at compile time.");
        w.Line($"{Names.TensorShape}.ExpectRank({first.Name}, nameof({first.Name}), \"{Shape(first)}\", {(first.IsInt ? 2 : 3)});");
        w.Line($"int batch = {first.Name}.Dim(0), length = {first.Name}.Dim(1);");
        w.Line($"var device = {first.Name}.Device;");
        foreach (var input in graph.Inputs)
            WriteCheck(w, input, input.Name, first.Name);
        foreach (var output in graph.Outputs)
            WriteCheck(w, output, output.Name, first.Name);
        var checks = new StepWriter(w, model.Method.Name, Id, shapes, forCost: false);
        foreach (var step in graph.Steps)
            step.WriteChecks(checks);
        foreach (var padding in graph.Inputs.Where(i => i.Int == IntRole.Padding))
        {
            w.Line($"// Padding as per-row lengths [B] on the device, computed once (a mask must list each row's tokens first).");
            w.Line($"using var {Id(padding.Name)}Lengths = {StepWriter.Ops}.PaddingLengths({padding.Name}, nameof({padding.Name}), batch, length);");
        }
        w.Line();
        w.Line("// Host memory on the CPU; elsewhere a copy made on first use and kept until the weights change.");
        w.Line($"var weights = {model.Method.Name}Weights.On(device);");
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name));
        var writer = new StepWriter(w, model.Method.Name, Id, shapes, forCost: false);
        // Each intermediate goes back to the pool right after its last reader, so a deep graph holds about one layer's
        // activations at a time, not all of them (the pool hands a block out again only once the queue is past its readers).
        var lastReader = new Dictionary<string, int>();
        for (int i = 0; i < graph.Steps.Count; i++)
            foreach (string read in graph.Steps[i].Reads)
                lastReader[read] = i;
        int stepNumber = 0;
        foreach (var step in graph.Steps)
        {
            int index = stepNumber;
            stepNumber++;
            w.Line();
            w.Line($"// {stepNumber}. {step.Explanation}");
            string target = Id(step.Output);
            if (!outputs.Contains(step.Output))
                w.Line(step.Pooled
                    ? $"using var {target} = {Names.Runtime}.Tensor.Create<float>(device, batch, {step.Features});"
                    : $"using var {target} = {Names.Runtime}.Tensor.Create<float>(device, batch, length, {step.Features});");
            writer.Produced(step);
            step.WriteRun(writer);
            var released = graph.Steps.Take(index).Select(p => p.Output).Where(v => !outputs.Contains(v) && lastReader.TryGetValue(v, out int last) && last == index).ToList();
            if (released.Count > 0)
                w.Line($"{string.Join(" ", released.Select(v => Id(v) + ".Dispose();"))} // last read: back to the pool");
        }
    }

    private static void WriteCheck(CodeWriter w, GraphValue value, string parameter, string first)
    {
        if (value.AnyShape)
        {
            // Read by modifiers only: its shape is theirs (each read is checked against it); the launch checks rank 1–3.
            w.Line($"{Names.TensorShape}.ExpectNotDisposed({parameter}, nameof({parameter}));");
            w.Line($"{Names.TensorShape}.ExpectDevice({parameter}, nameof({parameter}), device);");
            return;
        }
        switch (value.Int)
        {
            case IntRole.Documents:
                w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"[B, T] document ids\", batch, length);");
                break;
            case IntRole.Prefix:
                w.Line($"{Names.TensorShape}.ExpectLengths({parameter}, nameof({parameter}), batch, length, \"T of {first} \" + {Names.TensorShape}.Format({first}.Shape), device);");
                break;
            case IntRole.Offsets:
                w.Line($"{Names.TensorShape}.ExpectRank({parameter}, nameof({parameter}), \"[B, S + 1]\", 2);");
                w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"[B, S + 1]\", batch, {parameter}.Dim(1));");
                break;
            case IntRole.Ids:
                w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"[B, T]\", batch, length);");
                break;
            case IntRole.Padding:
                break; // [B, T] or [B]: checked where it becomes lengths
            default:
                if (value.Pooled)
                    w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"{Shape(value)}\", batch, {value.Features});");
                else
                    w.Line($"{Names.TensorShape}.Expect({parameter}, nameof({parameter}), \"{Shape(value)}\", batch, length, {value.Features});");
                break;
        }
        w.Line($"{Names.TensorShape}.ExpectDevice({parameter}, nameof({parameter}), device);");
    }

    /// <summary>
    /// <c>{Method}Cost(batch, length[, segments])</c>: the graph's cost model, one <c>StepCost</c> per step from the runtime's
    /// NodeCost (attention steps from their kernel class's Cost), in execution order.
    /// </summary>
    private static void WriteCost(CodeWriter w, ModelDeclaration model)
    {
        var graph = model.Graph;
        string name = model.Method.Name;
        var sizes = graph.Steps.Select(s => s.CostSize).Where(s => s is not null).Distinct().ToList();
        var shapes = new Dictionary<string, GraphValue>();
        foreach (var input in graph.Inputs)
            shapes[input.Name] = input;
        var writer = new StepWriter(w, name, Identifiers(model.Method), shapes, forCost: true);

        w.Line("/// <summary>");
        w.Line($"/// Cost model of <see cref=\"{name}\"/> for one run at these sizes: FLOPs, compulsory bytes (weights included) and scratch");
        w.Line("/// of every step, in execution order, and their total. What only the data knows is not read, so those counts are upper");
        w.Line("/// bounds: segment lengths, and the key padding, document ids, prefix lengths, boolean attnMasks and mask modifiers of");
        w.Line("/// attention steps (each counts every pair its Mask shows).");
        w.Line("/// </summary>");
        w.Line(Names.GeneratedCode);
        w.Open($"public static {Names.Runtime}.GraphCost {name}Cost(int batch, int length{string.Concat(sizes.Select(s => ", int " + s))})");
        w.Line($"return new {Names.Runtime}.GraphCost(new {Names.Runtime}.StepCost[]");
        w.Line("{");
        w.Indent();
        foreach (var step in graph.Steps)
        {
            w.Line($"new(\"{step.Output}\", \"{step.Kind}\", {step.Cost(writer)}),");
            writer.Produced(step);
        }
        w.Unindent();
        w.Line("});");
        w.Close();
    }

    private static string Shape(GraphValue value) => value.IsInt ? "[B, T]" : value.Pooled ? $"[B, {value.Features}]" : $"[B, T, {value.Features}]";

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

using System.Collections.Generic;
using Attention.Kernels.Generator.Model;

namespace Attention.Kernels.Generator.Emit;

/// <summary>
/// What a <see cref="ModelStep"/> needs to write its launch (in the graph method's body) or its cost expression (in
/// <c>{Method}Cost</c>): identifiers and shapes of values, weight references, and the attention kernel classes.
/// </summary>
internal sealed class StepWriter(CodeWriter writer, string method, System.Func<string, string> id, Dictionary<string, GraphValue> shapes, bool forCost)
{
    public const string Ops = Names.Runtime + ".GraphOps";
    public const string NodeCost = Names.Runtime + ".NodeCost";
    public const string NoWeight = Names.Runtime + ".GraphWeight.None";

    private int _attention;

    public CodeWriter W { get; } = writer;
    public string Method { get; } = method;

    /// <summary>The C# identifier of a value (parameters keep their names).</summary>
    public string Id(string value) => id(value);

    public GraphValue Shape(string value) => shapes[value];

    /// <summary>Rows of a value: batch for pooled values, batch·length for sequences (a long in the cost model).</summary>
    public string Rows(string value) => shapes[value].Pooled ? "batch" : forCost ? "(long)batch * length" : "batch * length";

    /// <summary>Floats of a value, as a long expression.</summary>
    public string Count(string value) => forCost ? $"{Rows(value)} * {shapes[value].Features}" : $"(long)({Rows(value)}) * {shapes[value].Features}";

    /// <summary>The per-row lengths [B] computed once from a padding parameter (see the graph body's start).</summary>
    public string Lengths(string padding) => Id(padding) + "Lengths";

    public string Weight(int index) => $"weights[{index}]";

    public static string Activation(int value) => $"{Names.Runtime}.Activation.{(value == 2 ? "Gelu" : value == 1 ? "Relu" : "None")}";

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>The kernel struct of the next attention step, in plan order (<c>{Method}Attention{n}Kernel</c>, named like a kernel declaration's).</summary>
    public string NextAttentionClass() => AttentionClass(Method, _attention++);

    public static string AttentionClass(string method, int index) => $"{method}Attention{index + 1}Kernel";

    /// <summary>Records a step's output so later steps see its shape.</summary>
    public void Produced(ModelStep step) => shapes[step.Output] = new GraphValue(step.Output, step.Features, step.Pooled, IntRole.None);
}

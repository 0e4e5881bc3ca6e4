namespace Attention.Kernels.Generator.Model;

/// <summary>One graph method of an [AttentionModel] class after analysis: where to emit it, its steps and what to report.</summary>
internal sealed record ModelDeclaration(
    string TypeKey,
    string? Namespace,
    EquatableArray<ContainingTypeInfo> ContainingTypes,
    KernelMethodInfo Method,
    bool IsStatic,
    ModelGraph Graph,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool CanEmit)
{
    public bool HasErrors => System.Linq.Enumerable.Any(Diagnostics, d => d.IsError);

    /// <summary>This declaration with location-free diagnostics: what the source output depends on (see the pipeline).</summary>
    public ModelDeclaration WithoutLocations() =>
        this with { Diagnostics = System.Linq.Enumerable.Select(Diagnostics, d => d.WithoutLocation()).ToEquatableArray() };
}

/// <summary>The planned graph: inputs and outputs (parameters), the fused steps in execution order, and the weights.</summary>
internal sealed record ModelGraph(
    EquatableArray<GraphValue> Inputs,
    EquatableArray<GraphValue> Outputs,
    EquatableArray<ModelStep> Steps,
    EquatableArray<WeightDeclaration> Weights,
    EquatableArray<string> FusionNotes);

/// <summary>A value flowing between steps: [B, T, Features] (a sequence), [B, Features] (pooled), or int offsets.</summary>
internal sealed record GraphValue(string Name, int Features, bool Pooled, bool IsOffsets);

/// <summary>A learned tensor owned by a node.</summary>
internal sealed record WeightDeclaration(string Node, string Name, EquatableArray<int> Shape, string Description);

/// <summary>One kernel launch of the planned graph, producing <see cref="Output"/>. <see cref="FirstWeight"/> indexes the weight list.</summary>
internal abstract record ModelStep(string Output, int Features, bool Pooled, string Explanation, int FirstWeight);

// Linear, Add, Norm and Activation keep their input's form: [B, T, F] stays a sequence, pooled [B, F] stays pooled.
internal sealed record LinearStep(string Output, string Input, int InFeatures, int OutFeatures, bool Bias, int Activation, string? Residual,
    bool Pooled, string Explanation, int FirstWeight) : ModelStep(Output, OutFeatures, Pooled, Explanation, FirstWeight);

internal sealed record AddStep(string Output, string Left, string Right, int Width, bool Pooled, string Explanation)
    : ModelStep(Output, Width, Pooled, Explanation, -1);

internal sealed record NormStep(string Output, string Input, int Width, bool Rms, double Epsilon, bool Pooled, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, Pooled, Explanation, FirstWeight);

internal sealed record ActivationStep(string Output, string Input, int Width, int Activation, bool Pooled, string Explanation)
    : ModelStep(Output, Width, Pooled, Explanation, -1);

internal sealed record AttentionStep(string Output, string Input, int HeadDim, int Heads, int KvHeads, MaskKind Mask, int Window, double Scale, string Explanation)
    : ModelStep(Output, Heads * HeadDim, false, Explanation, -1)
{
    public int PackedFeatures => (Heads + 2 * KvHeads) * HeadDim;
}

internal sealed record PoolingStep(string Output, string Input, int Width, int Hidden, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, true, Explanation, FirstWeight);

internal sealed record HierarchicalStep(string Output, string Input, string Segments, int Width, int WordHidden, int SegmentHidden, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, true, Explanation, FirstWeight);

internal sealed record SqueezeStep(string Output, string Input, int Channels, int Reduced, string Explanation, int FirstWeight)
    : ModelStep(Output, Channels, false, Explanation, FirstWeight);

internal sealed record PositionalStep(string Output, string Input, int Width, int MaxLength, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, false, Explanation, FirstWeight);

internal sealed record MixStep(string Output, EquatableArray<string> Inputs, int Width, bool InputsPooled, string Explanation, int FirstWeight)
    : ModelStep(Output, Width, InputsPooled, Explanation, FirstWeight);

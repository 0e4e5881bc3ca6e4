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

/// <summary>
/// A value flowing between steps: [B, T, Features] (a sequence), [B, Features] (pooled), or an int tensor whose
/// <see cref="Int"/> role says what it holds.
/// </summary>
/// <param name="AnyShape">
/// A parameter read by modifiers only (docs/kernels/mods.md): its shape is theirs to check (rank 1 to 3), so the graph sizes
/// nothing from it; a Tensor&lt;float&gt; when <see cref="Int"/> is None, else a Tensor&lt;int&gt; of role ModTensor. An
/// attention node's attnMask is one too (its shape broadcasts to [B, H, T, T], checked at each call).
/// </param>
/// <param name="IsBool">A Tensor&lt;bool&gt; parameter (always <see cref="AnyShape"/>): only a boolean attnMask reads one.</param>
internal sealed record GraphValue(string Name, int Features, bool Pooled, IntRole Int, bool AnyShape = false, bool IsBool = false)
{
    public bool IsInt => Int != IntRole.None;
    public bool IsOffsets => Int == IntRole.Offsets;
}

/// <summary>What an int tensor value holds; a parameter gets the role of the nodes that read it.</summary>
internal enum IntRole
{
    /// <summary>Not an int value.</summary>
    None = 0,

    /// <summary>Segment offsets [B, S + 1].</summary>
    Offsets = 1,

    /// <summary>Token ids [B, T] (an embedding's tokens or token types); token ids also size batch and length.</summary>
    Ids = 2,

    /// <summary>Padding: an attention mask [B, T] (1 = token, tokens first) or lengths [B]; read as per-row lengths.</summary>
    Padding = 3,

    /// <summary>An int parameter no node reads as ints (so far): its role is unknown.</summary>
    Unassigned = 4,

    /// <summary>Document ids [B, T] of an attention node's built-in document mask.</summary>
    Documents = 5,

    /// <summary>Prefix lengths [B] of an attention node's built-in prefix-LM mask.</summary>
    Prefix = 6,

    /// <summary>A tensor an attention node's modifiers read (any shape, rank 1 to 3; bound by the modifier parameter's name).</summary>
    ModTensor = 7,
}

/// <summary>A learned tensor owned by a node.</summary>
internal sealed record WeightDeclaration(string Node, string Name, EquatableArray<int> Shape, string Description);

/// <summary>
/// One kernel launch (or a small group of them) of the planned graph, producing <see cref="Output"/>.
/// <see cref="FirstWeight"/> indexes the weight list. Each kind's steps live with its <c>NodeKind</c> (Nodes/) and write
/// their own launch and cost, so the emitter is generic over steps.
/// </summary>
internal abstract record ModelStep(string Output, int Features, bool Pooled, string Explanation, int FirstWeight)
{
    /// <summary>The values this step reads (so the emitter can release each intermediate after its last reader).</summary>
    public abstract System.Collections.Generic.IEnumerable<string> Reads { get; }

    /// <summary>The kind named in the cost summary (<c>StepCost.Kind</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>Writes the launch of this step (the output tensor exists).</summary>
    public abstract void WriteRun(Emit.StepWriter s);

    /// <summary>The <c>KernelCost</c> expression of this step at (batch, length[, segments]).</summary>
    public abstract string Cost(Emit.StepWriter s);

    /// <summary>A size beyond (batch, length) that this step's cost depends on: a parameter of <c>{Method}Cost</c>, or null.</summary>
    public virtual string? CostSize => null;

    /// <summary>Writes checks of the inputs this step reads beyond their declared form (in the graph body, before any step runs).</summary>
    public virtual void WriteChecks(Emit.StepWriter s)
    {
    }

    /// <summary>Writes members of the model class this step needs (a kernel struct), after the graph method.</summary>
    public virtual void WriteMembers(Emit.StepWriter s)
    {
    }
}

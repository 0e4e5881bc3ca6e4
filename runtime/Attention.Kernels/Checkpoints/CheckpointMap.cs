namespace Attention.Kernels;

/// <summary>One checkpoint tensor feeding a model weight.</summary>
/// <param name="Tensor">Its name in the checkpoint.</param>
/// <param name="Transposed">
/// True when the checkpoint stores the transpose of what the weight wants (a 2-D tensor [in, out], as ONNX MatMul and
/// TensorFlow/JAX store linear layers, where nn.Linear's layout is [out, in]). Stated per entry, never inferred from shapes:
/// a square matrix would look right either way.
/// </param>
public sealed record CheckpointSource(string Tensor, bool Transposed = false)
{
    /// <inheritdoc />
    public override string ToString() => Transposed ? Tensor + " (transposed)" : Tensor;
}

/// <summary>Where one model weight comes from: one source, or several stacked along the weight's first axis.</summary>
/// <param name="Node">The model's node.</param>
/// <param name="Name">The node's weight (<c>weight</c>, <c>bias</c>, <c>gamma</c>…).</param>
/// <param name="Sources">The checkpoint tensors, in the order they are stacked.</param>
public sealed record CheckpointMapEntry(string Node, string Name, IReadOnlyList<CheckpointSource> Sources)
{
    /// <inheritdoc />
    public override string ToString() => $"{Node}.{Name} ← {string.Join(" + ", Sources)}";
}

/// <summary>
/// The names of a checkpoint mapped onto a model's weights, for <see cref="CheckpointLoading.LoadCheckpoint"/>: each model
/// weight from one checkpoint tensor (<see cref="Add"/>) or from several stacked along its first axis (<see cref="Stack"/>,
/// e.g. PyTorch's separate query, key and value into a packed qkv linear), and the checkpoint tensors the model does not use
/// (<see cref="Ignore(string[])"/>). Loading checks the whole map against the checkpoint and the model before it writes anything.
/// </summary>
public sealed class CheckpointMap
{
    private readonly List<CheckpointMapEntry> _entries = [];
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);
    private readonly List<Func<string, bool>> _ignoredWhere = [];

    /// <summary>The weights mapped so far, in the order they were added.</summary>
    public IReadOnlyList<CheckpointMapEntry> Entries => _entries;

    /// <summary>Weight <paramref name="node"/>.<paramref name="name"/> is checkpoint tensor <paramref name="tensor"/>.</summary>
    /// <param name="tensor">The checkpoint's name.</param>
    /// <param name="node">The model's node.</param>
    /// <param name="name">The node's weight.</param>
    /// <param name="transposed">The checkpoint stores the 2-D transpose (see <see cref="CheckpointSource.Transposed"/>).</param>
    public CheckpointMap Add(string tensor, string node, string name, bool transposed = false) =>
        Stack(node, name, new CheckpointSource(tensor, transposed));

    /// <summary>
    /// Weight <paramref name="node"/>.<paramref name="name"/> is <paramref name="sources"/> stacked along its first axis (each
    /// source after its own transposition): their first axes add up to the weight's, their other axes equal the weight's.
    /// </summary>
    public CheckpointMap Stack(string node, string name, params CheckpointSource[] sources)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Length == 0)
            throw new ArgumentException($"Weight '{node}.{name}' needs at least one source.", nameof(sources));
        foreach (var source in sources)
            ArgumentException.ThrowIfNullOrEmpty(source?.Tensor, nameof(sources));
        if (_entries.Any(e => e.Node == node && e.Name == name))
            throw new ArgumentException($"Weight '{node}.{name}' is already mapped (to {_entries.First(e => e.Node == node && e.Name == name)}).", nameof(name));
        _entries.Add(new CheckpointMapEntry(node, name, [.. sources]));
        return this;
    }

    /// <summary>Checkpoint tensors the model has no use for (a pooler it does not run, position-id buffers…).</summary>
    public CheckpointMap Ignore(params string[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var tensor in tensors)
            _ignored.Add(tensor ?? throw new ArgumentNullException(nameof(tensors)));
        return this;
    }

    /// <summary>Checkpoint tensors the model has no use for, by a rule on their names (e.g. a prefix).</summary>
    public CheckpointMap IgnoreWhere(Func<string, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        _ignoredWhere.Add(predicate);
        return this;
    }

    /// <summary>True when <paramref name="tensor"/> was declared unused.</summary>
    public bool IsIgnored(string tensor) => _ignored.Contains(tensor) || _ignoredWhere.Any(p => p(tensor));
}

/// <summary>
/// A checkpoint and a model disagree: every problem found, at once (nothing was loaded). Each list names tensors and
/// weights with their shapes. An <see cref="ArgumentException"/> about the <c>checkpoint</c> argument.
/// </summary>
public sealed class CheckpointMismatchException : ArgumentException
{
    internal CheckpointMismatchException(IReadOnlyList<string> missing, IReadOnlyList<string> unmapped, IReadOnlyList<string> misshaped,
        IReadOnlyList<string> other)
        : base(Describe(missing, unmapped, misshaped, other), "checkpoint")
    {
        Missing = missing;
        Unmapped = unmapped;
        Misshaped = misshaped;
        Other = other;
    }

    /// <summary>Model weights no checkpoint tensor provides, and mapped tensors the checkpoint does not have.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Checkpoint tensors neither mapped to a weight nor ignored (a name the map got wrong, usually).</summary>
    public IReadOnlyList<string> Unmapped { get; }

    /// <summary>Mapped tensors whose shape (after any transposition and stacking) is not the weight's.</summary>
    public IReadOnlyList<string> Misshaped { get; }

    /// <summary>Anything else: a map entry naming a weight the model does not have, a tensor of a type that is not floating point.</summary>
    public IReadOnlyList<string> Other { get; }

    private static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unmapped, IReadOnlyList<string> misshaped, IReadOnlyList<string> other)
    {
        var parts = new List<string>();
        void Part(string title, IReadOnlyList<string> items)
        {
            const int shown = 12;
            if (items.Count > 0)
                parts.Add($"{items.Count} {title}: {string.Join("; ", items.Take(shown))}{(items.Count > shown ? $"; … ({items.Count - shown} more)" : "")}");
        }
        Part("missing", missing);
        Part("unmapped (map them, or Ignore them)", unmapped);
        Part("mis-shaped", misshaped);
        Part("other", other);
        return "The checkpoint does not fit the model, nothing was loaded. " + string.Join(". ", parts) + ".";
    }
}

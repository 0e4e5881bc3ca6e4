namespace Attention.Kernels;

/// <summary>
/// Another checkpoint's tensors under new names, transposed where said: how an export that renamed or re-laid-out its
/// weights (ONNX's numbered [in, out] MatMul weights) is presented in the names and layout a model's map expects
/// (PyTorch's [out, in]). Reads go to the underlying checkpoint; nothing is copied until then.
/// </summary>
public sealed class CheckpointView : ICheckpoint
{
    private readonly ICheckpoint _source;
    private readonly List<CheckpointTensor> _tensors = [];
    private readonly Dictionary<string, (CheckpointTensor Tensor, CheckpointSource Source)> _byName = new(StringComparer.Ordinal);

    /// <summary>An empty view of <paramref name="source"/>: add the tensors it shows with <see cref="Add"/>.</summary>
    public CheckpointView(ICheckpoint source) => _source = source ?? throw new ArgumentNullException(nameof(source));

    /// <summary>
    /// Shows <paramref name="sourceTensor"/> as <paramref name="name"/>, transposed (2-D only) when
    /// <paramref name="transposed"/> is true.
    /// </summary>
    public CheckpointView Add(string name, string sourceTensor, bool transposed = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var stored = _source.Find(sourceTensor) ?? throw new KeyNotFoundException($"The underlying checkpoint has no tensor '{sourceTensor}' (for '{name}').");
        if (transposed && stored.Shape.Length != 2)
            throw new ArgumentException($"{stored} cannot be shown transposed as '{name}': it is not 2-D.", nameof(transposed));
        if (_byName.ContainsKey(name))
            throw new ArgumentException($"The view already has a tensor '{name}'.", nameof(name));
        var tensor = stored with { Name = name, Shape = transposed ? [stored.Shape[1], stored.Shape[0]] : stored.Shape };
        _byName.Add(name, (tensor, new CheckpointSource(sourceTensor, transposed)));
        _tensors.Add(tensor);
        return this;
    }

    /// <summary>Where the view's tensor <paramref name="name"/> comes from, or null.</summary>
    public CheckpointSource? SourceOf(string name) => _byName.TryGetValue(name, out var entry) ? entry.Source : null;

    /// <inheritdoc />
    public IReadOnlyList<CheckpointTensor> Tensors => _tensors;

    /// <inheritdoc />
    public CheckpointTensor? Find(string name) => _byName.TryGetValue(name, out var entry) ? entry.Tensor : null;

    /// <inheritdoc />
    public void ReadSingle(string name, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_byName.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"The checkpoint view has no tensor '{name}'.");
        if (destination.Length != entry.Tensor.Length)
            throw new ArgumentException(
                $"Tensor '{name}' has shape {TensorShape.Format(entry.Tensor.Shape)} ({entry.Tensor.Length} values), but the destination holds {destination.Length}.",
                nameof(destination));
        CheckpointLoading.Read(_source, entry.Source, destination);
    }
}

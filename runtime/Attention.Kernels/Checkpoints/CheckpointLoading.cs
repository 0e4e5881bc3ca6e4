namespace Attention.Kernels;

/// <summary>Loads a model's weights from an <see cref="ICheckpoint"/> through a <see cref="CheckpointMap"/>.</summary>
public static class CheckpointLoading
{
    /// <summary>
    /// Loads every weight <paramref name="map"/> names from <paramref name="checkpoint"/> (converted to float; transposed and
    /// stacked as the map says). First checks everything and throws one <see cref="CheckpointMismatchException"/> listing every
    /// problem, having loaded nothing: a model weight with no source (unless <paramref name="requireAll"/> is false), a mapped
    /// tensor the checkpoint lacks, a checkpoint tensor neither mapped nor ignored, a shape that differs from the weight's.
    /// Data a file only shows to be corrupt when it is read (an exception from <see cref="ICheckpoint.ReadSingle"/>) stops
    /// the load there: the weights before it are loaded, that one and the rest are not.
    /// </summary>
    /// <param name="weights">The model's weights (e.g. <c>model.ForwardWeights</c>).</param>
    /// <param name="checkpoint">Where the values come from.</param>
    /// <param name="map">Checkpoint names to weight names.</param>
    /// <param name="requireAll">
    /// False to load only the mapped weights and leave the others as they are (a head you train or initialize yourself).
    /// </param>
    /// <exception cref="CheckpointMismatchException">The checkpoint, the map and the model disagree; nothing was loaded.</exception>
    public static void LoadCheckpoint(this ModelWeights weights, ICheckpoint checkpoint, CheckpointMap map, bool requireAll = true)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(map);

        var missing = new List<string>();
        var unmapped = new List<string>();
        var misshaped = new List<string>();
        var other = new List<string>();
        var plan = new List<(WeightSpec Spec, CheckpointMapEntry Entry)>();
        var used = new HashSet<string>(StringComparer.Ordinal);

        foreach (var entry in map.Entries)
        {
            var spec = weights.Layout.FirstOrDefault(w => w.Node == entry.Node && w.Name == entry.Name);
            if (spec is null)
            {
                other.Add($"the map names {entry.Node}.{entry.Name}, which this model does not have");
                continue;
            }
            bool complete = true;
            var shapes = new List<int[]>();
            foreach (var source in entry.Sources)
            {
                used.Add(source.Tensor);
                var tensor = checkpoint.Find(source.Tensor);
                if (tensor is null)
                {
                    missing.Add($"{source.Tensor} (for {spec.Node}.{spec.Name} {TensorShape.Format(spec.Shape)}) is not in the checkpoint");
                    complete = false;
                }
                else if (tensor.DType == CheckpointDType.Unsupported)
                {
                    other.Add($"{tensor} (for {spec.Node}.{spec.Name}) is not F32, F16 or BF16");
                    complete = false;
                }
                else if (source.Transposed && tensor.Shape.Length != 2)
                {
                    misshaped.Add($"{tensor} is mapped transposed to {spec.Node}.{spec.Name}, but only a 2-D tensor can be transposed");
                    complete = false;
                }
                else
                {
                    shapes.Add(source.Transposed ? [tensor.Shape[1], tensor.Shape[0]] : tensor.Shape);
                }
            }
            if (!complete)
                continue;
            var shape = Stacked(shapes);
            if (shape is null || !shape.AsSpan().SequenceEqual(spec.Shape))
            {
                string found = entry.Sources.Count == 1
                    ? $"{entry.Sources[0]} is {TensorShape.Format(shapes[0])}"
                    : $"{string.Join(" + ", entry.Sources.Zip(shapes, (s, sh) => $"{s} {TensorShape.Format(sh)}"))} stack to {(shape is null ? "nothing (their trailing axes differ)" : TensorShape.Format(shape))}";
                misshaped.Add($"{spec.Node}.{spec.Name} is {TensorShape.Format(spec.Shape)}, but {found}");
                continue;
            }
            plan.Add((spec, entry));
        }

        if (requireAll)
        {
            foreach (var spec in weights.Layout)
            {
                if (!map.Entries.Any(e => e.Node == spec.Node && e.Name == spec.Name))
                    missing.Add($"{spec.Node}.{spec.Name} {TensorShape.Format(spec.Shape)} has no entry in the map");
            }
        }
        foreach (var tensor in checkpoint.Tensors)
        {
            if (!used.Contains(tensor.Name) && !map.IsIgnored(tensor.Name))
                unmapped.Add(tensor.ToString());
        }
        if (missing.Count + unmapped.Count + misshaped.Count + other.Count > 0)
            throw new CheckpointMismatchException(missing, unmapped, misshaped, other);

        // Each weight goes through a buffer of its own, so a read that fails on corrupt data (found only when the data is
        // read) leaves that weight unloaded rather than half written and counted as loaded.
        foreach (var (spec, entry) in plan)
        {
            var values = GC.AllocateUninitializedArray<float>(checked((int)spec.Length));
            int offset = 0;
            foreach (var source in entry.Sources)
                offset += Read(checkpoint, source, values.AsSpan(offset));
            weights.Load(spec.Node, spec.Name, values);
        }
    }

    /// <summary>
    /// Reads <paramref name="source"/> as float into the start of <paramref name="destination"/>, transposing it if the
    /// source says so; returns the number of values written.
    /// </summary>
    internal static int Read(ICheckpoint checkpoint, CheckpointSource source, Span<float> destination)
    {
        var tensor = checkpoint.Find(source.Tensor) ?? throw new KeyNotFoundException($"The checkpoint has no tensor '{source.Tensor}'.");
        int length = checked((int)tensor.Length);
        if (!source.Transposed)
        {
            checkpoint.ReadSingle(source.Tensor, destination[..length]);
            return length;
        }
        if (tensor.Shape.Length != 2)
            throw new ArgumentException($"{tensor} cannot be transposed: it is not 2-D.", nameof(source));
        var stored = new float[length];
        checkpoint.ReadSingle(source.Tensor, stored);
        Transpose(stored, tensor.Shape[0], tensor.Shape[1], destination[..length]);
        return length;
    }

    /// <summary>[rows, columns] → [columns, rows], in cache-sized tiles (a 30522 × 384 embedding is read once either way).</summary>
    internal static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        const int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile)
        {
            int r1 = Math.Min(r0 + tile, rows);
            for (int c0 = 0; c0 < columns; c0 += tile)
            {
                int c1 = Math.Min(c0 + tile, columns);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                        destination[c * rows + r] = source[r * columns + c];
                }
            }
        }
    }

    /// <summary>The shape of <paramref name="shapes"/> stacked along axis 0, or null when their ranks or trailing axes differ.</summary>
    private static int[]? Stacked(List<int[]> shapes)
    {
        var first = shapes[0];
        if (shapes.Count == 1)
            return first;
        if (first.Length == 0 || shapes.Any(s => s.Length != first.Length || !s.AsSpan(1).SequenceEqual(first.AsSpan(1))))
            return null;
        return [shapes.Sum(s => s[0]), .. first[1..]];
    }
}

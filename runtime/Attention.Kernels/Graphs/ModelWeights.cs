using System.Runtime.InteropServices;

namespace Attention.Kernels;

/// <summary>One learned tensor of a model graph: which node owns it, its name, shape and role.</summary>
public sealed record WeightSpec(string Node, string Name, int[] Shape, string Description)
{
    /// <summary>Number of floats.</summary>
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Fan-in used by the random initializer (the last axis for matrices).</summary>
    public int FanIn => Shape.Length >= 2 ? Shape[^1] : 0;

    /// <inheritdoc />
    public override string ToString() => $"{Node}.{Name} {TensorShape.Format(Shape)}: {Description}";
}

/// <summary>
/// The learned parameters of a model graph, in 64-byte aligned host memory the CPU kernels read directly.
/// Load them by node and name (e.g. from a PyTorch state dict flattened to floats), or initialize them randomly.
/// </summary>
public sealed unsafe class ModelWeights : IDisposable
{
    private readonly nint[] _data;

    /// <summary>Allocates zeroed storage for <paramref name="layout"/>.</summary>
    public ModelWeights(IReadOnlyList<WeightSpec> layout)
    {
        Layout = layout;
        _data = new nint[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            _data[i] = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(4, layout[i].Length * sizeof(float)), 64);
            new Span<float>((void*)_data[i], (int)layout[i].Length).Clear();
        }
    }

    /// <summary>Every weight, in the order the generated code indexes them.</summary>
    public IReadOnlyList<WeightSpec> Layout { get; }

    /// <summary>Total learned floats.</summary>
    public long ParameterCount => Layout.Sum(w => w.Length);

    /// <summary>Storage of weight <paramref name="index"/> (for generated code).</summary>
    public float* Pointer(int index)
    {
        ObjectDisposedException.ThrowIf(_data[index] == 0, this);
        return (float*)_data[index];
    }

    /// <summary>A view of weight <paramref name="node"/>.<paramref name="name"/>.</summary>
    public Span<float> this[string node, string name]
    {
        get
        {
            int index = IndexOf(node, name);
            return new Span<float>(Pointer(index), (int)Layout[index].Length);
        }
    }

    /// <summary>Copies <paramref name="values"/> into weight <paramref name="node"/>.<paramref name="name"/>; the length must match its shape.</summary>
    public void Load(string node, string name, ReadOnlySpan<float> values)
    {
        int index = IndexOf(node, name);
        var spec = Layout[index];
        if (values.Length != spec.Length)
            throw new ArgumentException(
                $"Weight '{node}.{name}' has shape {TensorShape.Format(spec.Shape)} ({spec.Length} floats), but {values.Length} were given.", nameof(values));
        values.CopyTo(new Span<float>(Pointer(index), values.Length));
    }

    /// <summary>
    /// Seeded random initialization: matrices uniform in ±1/√fan-in (PyTorch's nn.Linear default), vectors around
    /// their neutral value (γ near 1, biases near 0) with small noise so tests exercise every term.
    /// </summary>
    public void InitializeRandom(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < Layout.Count; i++)
        {
            var spec = Layout[i];
            var data = new Span<float>(Pointer(i), (int)spec.Length);
            bool isScale = spec.Name is "gamma";
            double bound = spec.FanIn > 0 ? 1 / Math.Sqrt(spec.FanIn) : 0.1;
            for (int j = 0; j < data.Length; j++)
                data[j] = (float)((isScale ? 1 : 0) + (random.NextDouble() * 2 - 1) * bound);
        }
    }

    private int IndexOf(string node, string name)
    {
        for (int i = 0; i < Layout.Count; i++)
        {
            if (Layout[i].Node == node && Layout[i].Name == name)
                return i;
        }
        throw new ArgumentException(
            $"No weight '{node}.{name}'. This model has: {string.Join(", ", Layout.Select(w => w.Node + "." + w.Name))}.", nameof(node));
    }

    /// <summary>Frees the storage.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _data.Length; i++)
        {
            NativeMemory.AlignedFree((void*)_data[i]);
            _data[i] = 0;
        }
    }
}

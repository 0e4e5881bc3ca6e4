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
/// Load them by node and name (e.g. from a PyTorch state dict flattened to floats), or initialize them explicitly
/// (<see cref="InitializeRandom"/>, <see cref="InitializeZeros"/>). A weight that was never loaded or initialized is an
/// error at the first forward pass (<see cref="On"/> throws, naming it), not a silent zero.
/// </summary>
public sealed unsafe class ModelWeights : IDisposable
{
    private readonly nint[] _data;
    private readonly bool[] _loaded;
    private readonly object _copiesLock = new();
    private readonly List<GraphWeights> _copies = [];
    private GraphWeights? _host;
    private long _version;
    private readonly nint[] _packed;
    private readonly long[] _packedVersion;
    private readonly bool[] _exposed;

    /// <summary>Allocates zeroed storage for <paramref name="layout"/>.</summary>
    public ModelWeights(IReadOnlyList<WeightSpec> layout)
    {
        Layout = layout;
        _data = new nint[layout.Count];
        _loaded = new bool[layout.Count];
        _packed = new nint[layout.Count];
        _packedVersion = new long[layout.Count];
        _exposed = new bool[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            _data[i] = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(4, layout[i].Length * sizeof(float)), 64);
            new Span<float>((void*)_data[i], (int)layout[i].Length).Clear();
        }
    }

    /// <summary>Every weight, in the order the generated code indexes them.</summary>
    public IReadOnlyList<WeightSpec> Layout { get; }

    /// <summary>
    /// The weights (as <c>node.name</c>) that were neither loaded nor initialized: a forward pass refuses to run until
    /// this is empty.
    /// </summary>
    public IReadOnlyList<string> Unloaded
    {
        get
        {
            var names = new List<string>();
            for (int i = 0; i < Layout.Count; i++)
            {
                if (!Volatile.Read(ref _loaded[i]))
                    names.Add(Layout[i].Node + "." + Layout[i].Name);
            }
            return names;
        }
    }

    /// <summary>Total learned floats.</summary>
    public long ParameterCount => Layout.Sum(w => w.Length);

    /// <summary>
    /// Counts changes made through <see cref="Load"/>, <see cref="InitializeRandom"/> and the indexer (whose span may be
    /// written): a device copy older than this is refreshed by the next <see cref="On"/>.
    /// </summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>
    /// The weights where <paramref name="device"/>'s kernels read them: this host memory on the CPU, and on any other
    /// device a copy made once (tensors from the device's memory pool) and cached until the weights change or are disposed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A weight was never loaded or initialized; the message names each one.</exception>
    public GraphWeights On(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        ObjectDisposedException.ThrowIf(_data.Length > 0 && _data[0] == 0, this);
        ThrowIfUnloaded();
        if (device.Kind == DeviceKind.Cpu)
            return _host ??= new GraphWeights(this, device, null, 0);
        lock (_copiesLock)
        {
            long version = Version;
            int index = _copies.FindIndex(c => ReferenceEquals(c.Device, device));
            if (index >= 0 && _copies[index].Version == version)
                return _copies[index];
            var tensors = index >= 0 ? _copies[index].Tensors! : new Tensor<float>[Layout.Count];
            for (int i = 0; i < Layout.Count; i++)
            {
                tensors[i] ??= Tensor.Create<float>(device, (int)Math.Max(1, Layout[i].Length));
                device.CopyFromHost(new ReadOnlySpan<float>(Pointer(i), (int)Layout[i].Length), tensors[i].Buffer);
            }
            var copy = new GraphWeights(this, device, tensors, version);
            if (index >= 0)
                _copies[index] = copy;
            else
                _copies.Add(copy);
            return copy;
        }
    }

    private void ThrowIfUnloaded()
    {
        var unloaded = Unloaded;
        if (unloaded.Count == 0)
            return;
        const int shown = 16;
        string names = string.Join(", ", unloaded.Take(shown)) + (unloaded.Count > shown ? $", … ({unloaded.Count - shown} more)" : "");
        throw new InvalidOperationException(
            $"{unloaded.Count} of {Layout.Count} weights were never loaded: {names}. Load each with Load(node, name, values), " +
            "or opt in to InitializeRandom(seed) or InitializeZeros() before the forward pass.");
    }

    /// <summary>Storage of weight <paramref name="index"/> (for generated code).</summary>
    public float* Pointer(int index)
    {
        ObjectDisposedException.ThrowIf(_data[index] == 0, this);
        return (float*)_data[index];
    }

    /// <summary>A view of weight <paramref name="node"/>.<paramref name="name"/>; writing through it counts as loading it.</summary>
    public Span<float> this[string node, string name]
    {
        get
        {
            int index = IndexOf(node, name);
            Volatile.Write(ref _loaded[index], true); // the caller may fill it through the span
            Volatile.Write(ref _exposed[index], true); // writes through the span bump no version: never serve a packed copy of it again
            Interlocked.Increment(ref _version); // the caller may write through the span
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
        Volatile.Write(ref _loaded[index], true);
        Interlocked.Increment(ref _version);
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
            Volatile.Write(ref _loaded[i], true);
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Sets every weight to zero and counts them all as loaded: the explicit opt-in for an all-zero model (a graph
    /// with zero weights computes little more than its residual paths, so this is never done implicitly).
    /// </summary>
    public void InitializeZeros()
    {
        for (int i = 0; i < Layout.Count; i++)
        {
            new Span<float>(Pointer(i), (int)Layout[i].Length).Clear();
            Volatile.Write(ref _loaded[i], true);
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Weight <paramref name="index"/> ([outFeatures, inFeatures]) packed for the CPU GEMM (<see cref="Cpu.CpuOps.PackLinearWeight"/>),
    /// made at first use and kept until the weights change (<see cref="Version"/>), so a forward pass does not repack it;
    /// null where no packed copy may be served: a weight whose span the indexer handed out (it may change without a
    /// new version), or a shape that does not match the layout.
    /// </summary>
    /// <remarks>A change of any weight repacks each packed weight at its next use, in place: a forward pass running while the
    /// weights change reads a mix, as it would read the host memory itself.</remarks>
    internal float* PackedLinear(int index, int inFeatures, int outFeatures)
    {
        var shape = Layout[index].Shape;
        if (Volatile.Read(ref _exposed[index]) || shape.Length != 2 || shape[0] != outFeatures || shape[1] != inFeatures || inFeatures == 0 || outFeatures == 0)
            return null;
        long version = Version;
        if (_packed[index] != 0 && Volatile.Read(ref _packedVersion[index]) == version)
            return (float*)_packed[index];
        lock (_packedLock)
        {
            if (_packed[index] != 0 && _packedVersion[index] == version)
                return (float*)_packed[index];
            if (_packed[index] == 0)
            {
                long bytes = Cpu.CpuOps.PackedLinearWeightFloats(inFeatures, outFeatures) * sizeof(float);
                _packed[index] = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
                _packedBytes += bytes;
            }
            Cpu.CpuOps.PackLinearWeight(Pointer(index), inFeatures, outFeatures, (float*)_packed[index]);
            Volatile.Write(ref _packedVersion[index], version); // the version read before packing: a change during it repacks next time
            return (float*)_packed[index];
        }
    }

    private readonly object _packedLock = new();
    private long _packedBytes;

    /// <summary>Bytes held by the CPU's packed copies of weights (<see cref="PackedLinear"/>).</summary>
    public long PackedBytes
    {
        get
        {
            lock (_packedLock)
                return _packedBytes;
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

    /// <summary>Frees the storage and returns the device copies' memory to their pools.</summary>
    public void Dispose()
    {
        lock (_copiesLock)
        {
            foreach (var copy in _copies)
            {
                foreach (var tensor in copy.Tensors!)
                    tensor?.Dispose();
            }
            _copies.Clear();
        }
        lock (_packedLock)
        {
            for (int i = 0; i < _packed.Length; i++)
            {
                NativeMemory.AlignedFree((void*)_packed[i]);
                _packed[i] = 0;
            }
            _packedBytes = 0;
        }
        for (int i = 0; i < _data.Length; i++)
        {
            NativeMemory.AlignedFree((void*)_data[i]);
            _data[i] = 0;
        }
    }
}

/// <summary>
/// A model's weights bound to one device (from <see cref="ModelWeights.On"/>): what the generated graph code hands to
/// <see cref="GraphOps"/>. Index it in <see cref="ModelWeights.Layout"/> order.
/// </summary>
public sealed class GraphWeights
{
    internal GraphWeights(ModelWeights host, Device device, Tensor<float>[]? tensors, long version)
    {
        Host = host;
        Device = device;
        Tensors = tensors;
        Version = version;
    }

    /// <summary>The host weights this is a view or copy of.</summary>
    public ModelWeights Host { get; }

    /// <summary>Where the kernels read them.</summary>
    public Device Device { get; }

    /// <summary>The device copies (null on the CPU, where the host memory is read directly).</summary>
    internal Tensor<float>[]? Tensors { get; }

    /// <summary>The <see cref="ModelWeights.Version"/> the copies were made from.</summary>
    internal long Version { get; }

    /// <summary>Weight <paramref name="index"/>.</summary>
    public unsafe GraphWeight this[int index] => new(Host.Pointer(index), Tensors?[index], Host, index);
}

/// <summary>One weight as a graph op reads it: host memory, plus its device copy off the CPU. <c>default</c> is "none" (e.g. no bias).</summary>
public readonly unsafe struct GraphWeight
{
    internal GraphWeight(float* host, Tensor<float>? onDevice, ModelWeights? owner = null, int index = -1)
    {
        Host = host;
        OnDevice = onDevice;
        Owner = owner;
        Index = index;
    }

    /// <summary>The weights this one belongs to (for cached packed copies), or null.</summary>
    internal ModelWeights? Owner { get; }

    /// <summary>Its index in <see cref="Owner"/>'s layout.</summary>
    internal int Index { get; }

    /// <summary>This [outFeatures, inFeatures] weight packed for the CPU GEMM, cached by its owner; null when none may be used.</summary>
    internal float* PackedLinear(int inFeatures, int outFeatures) => Owner is null ? null : Owner.PackedLinear(Index, inFeatures, outFeatures);

    /// <summary>No weight (an optional one that the node does not have).</summary>
    public static GraphWeight None => default;

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => Host == null;

    /// <summary>The host copy (always present for a real weight: host-memory backends and small host-side math read it).</summary>
    public float* Host { get; }

    /// <summary>The device copy, or null on the CPU.</summary>
    public Tensor<float>? OnDevice { get; }

    /// <summary>The device copy; throws if the weights were not bound with <see cref="ModelWeights.On"/> for a device.</summary>
    public Tensor<float> Device =>
        OnDevice ?? throw new ArgumentException("A required weight has no device copy: pass weights from ModelWeights.On(device).");
}

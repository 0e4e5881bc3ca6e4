namespace Attention.Kernels;

/// <summary>
/// A tensor read by a score or mask modifier (docs/kernels/mods.md, "Tensors read by modifiers"): a modifier declares one
/// parameter per tensor it reads, of a type parameter constrained to this interface, and the backend passes its own
/// accessor (raw memory on the CPU, an <c>ArrayView</c> on ILGPU), so every access is a direct, inlinable call.
/// Row-major over the tensor's shape (rank 1 to 3); use the indexer of the tensor's rank (the flat one works for any).
/// Every index is checked against its axis (the flat one against the length): a read outside the shape is an
/// <see cref="IndexOutOfRangeException"/> naming the tensor, its shape and the index (on ILGPU raised after the launch,
/// since a kernel cannot throw; the read itself returns 0).
/// </summary>
/// <typeparam name="T"><see cref="int"/> or <see cref="float"/>.</typeparam>
public interface IModTensor<T> where T : unmanaged
{
    /// <summary>Element <paramref name="index"/> of the flattened tensor.</summary>
    T this[int index] { get; }

    /// <summary>Element [i0, i1] of a rank-2 tensor.</summary>
    T this[int i0, int i1] { get; }

    /// <summary>Element [i0, i1, i2] of a rank-3 tensor.</summary>
    T this[int i0, int i1, int i2] { get; }

    /// <summary>The length of axis <paramref name="axis"/> (0, 1 or 2; 1 past the tensor's rank).</summary>
    int Dim(int axis);
}

/// <summary>
/// The tensors a kernel's modifiers read, as one value a backend passes to <see cref="IAttentionKernel.ScoreMod{TInt, TFloat}"/>
/// and <see cref="IAttentionKernel.MaskMod{TInt, TFloat}"/>: slot n (the n-th modifier tensor the declaration lists after its
/// standard parameters) is <c>Int{n}</c> for a <c>Tensor&lt;int&gt;</c> and <c>Float{n}</c> for a <c>Tensor&lt;float&gt;</c>; the
/// other field of the slot, and every unused slot, is default. A plain struct of accessors, so ILGPU takes it as one kernel parameter.
/// </summary>
public struct ModTensors<TInt, TFloat>
    where TInt : struct, IModTensor<int>
    where TFloat : struct, IModTensor<float>
{
    /// <summary>Slot 0..3 when it holds a <c>Tensor&lt;int&gt;</c>.</summary>
    public TInt Int0, Int1, Int2, Int3;

    /// <summary>Slot 0..3 when it holds a <c>Tensor&lt;float&gt;</c>.</summary>
    public TFloat Float0, Float1, Float2, Float3;

    /// <summary>Puts <paramref name="accessor"/> in slot <paramref name="slot"/> (0..3) as a <c>Tensor&lt;int&gt;</c>.</summary>
    public void SetInt(int slot, TInt accessor)
    {
        if (slot == 0) Int0 = accessor; else if (slot == 1) Int1 = accessor; else if (slot == 2) Int2 = accessor; else Int3 = accessor;
    }

    /// <summary>Puts <paramref name="accessor"/> in slot <paramref name="slot"/> (0..3) as a <c>Tensor&lt;float&gt;</c>.</summary>
    public void SetFloat(int slot, TFloat accessor)
    {
        if (slot == 0) Float0 = accessor; else if (slot == 1) Float1 = accessor; else if (slot == 2) Float2 = accessor; else Float3 = accessor;
    }
}

/// <summary>An accessor that reads nothing: the tensor type of launches and callers without modifier tensors.</summary>
public readonly struct NoModTensor<T> : IModTensor<T> where T : unmanaged
{
    /// <inheritdoc/>
    public T this[int index] => default;

    /// <inheritdoc/>
    public T this[int i0, int i1] => default;

    /// <inheritdoc/>
    public T this[int i0, int i1, int i2] => default;

    /// <inheritdoc/>
    public int Dim(int axis) => 0;
}

/// <summary>
/// The tensors of one launch that its kernel's modifiers read (<see cref="AttentionLaunch{T}.ModTensors"/>): up to
/// <see cref="MaxCount"/> <c>Tensor&lt;int&gt;</c> or <c>Tensor&lt;float&gt;</c> of rank 1 to 3, in the order the declaration
/// lists them. The generated <c>Launch</c> fills it; a fixed struct, so a launch allocates nothing for it.
/// </summary>
public readonly record struct ModTensorArgs(object? Tensor0 = null, object? Tensor1 = null, object? Tensor2 = null, object? Tensor3 = null)
{
    /// <summary>The most tensors the modifiers of one kernel read.</summary>
    public const int MaxCount = 4;

    /// <summary>Slot <paramref name="slot"/>'s tensor (null when unused).</summary>
    public object? this[int slot] => slot switch { 0 => Tensor0, 1 => Tensor1, 2 => Tensor2, 3 => Tensor3, _ => null };

    /// <summary>The number of leading slots in use.</summary>
    public int Count => Tensor0 is null ? 0 : Tensor1 is null ? 1 : Tensor2 is null ? 2 : Tensor3 is null ? 3 : 4;

    /// <summary>
    /// Throws unless these are the modifier tensors <typeparamref name="TKernel"/> reads: <see cref="IAttentionKernel.ModTensorCount"/>
    /// of them, each a <c>Tensor&lt;float&gt;</c> where <see cref="IAttentionKernel.FloatModTensors"/> has its bit, else a
    /// <c>Tensor&lt;int&gt;</c>, of rank 1 to 3, on <paramref name="device"/>.
    /// </summary>
    public void ExpectFor<TKernel>(Device device) where TKernel : struct, IAttentionKernel
    {
        for (int slot = Count; slot < MaxCount; slot++)
        {
            if (this[slot] is not null)
                throw new ArgumentException($"{Kernel<TKernel>()}: the launch's ModTensors has a gap before slot {slot}.");
        }
        if (Count != TKernel.ModTensorCount)
            throw new ArgumentException($"{Kernel<TKernel>()}'s modifiers read {TKernel.ModTensorCount} tensor(s): the launch's ModTensors has {Count}.");
        for (int slot = 0; slot < Count; slot++)
        {
            bool wantFloat = (TKernel.FloatModTensors >> slot & 1) != 0;
            var (rank, on) = this[slot] switch
            {
                Tensor<float> f when wantFloat => (f.Rank, f.Device),
                Tensor<int> i when !wantFloat => (i.Rank, i.Device),
                _ => throw new ArgumentException($"{Kernel<TKernel>()}: {Name<TKernel>(slot)} must be a Tensor<{(wantFloat ? "float" : "int")}>, not {this[slot]}."),
            };
            if (rank is < 1 or > 3)
                throw new ArgumentException($"{Kernel<TKernel>()}: {Name<TKernel>(slot)} has rank {rank}; modifier tensors have rank 1 to 3.");
            if (!ReferenceEquals(on, device))
                throw new ArgumentException($"{Kernel<TKernel>()}: {Name<TKernel>(slot)} is on {on}, the launch on {device}.");
        }
    }

    /// <summary>
    /// How messages name slot <paramref name="slot"/> of <typeparamref name="TKernel"/>: "modifier tensor 'ids' (slot 1)" with the
    /// declaration's parameter name (<see cref="IAttentionKernel.ModTensorName"/>), else "modifier tensor 1".
    /// </summary>
    public static string Name<TKernel>(int slot) where TKernel : struct, IAttentionKernel =>
        TKernel.ModTensorName(slot) is { } name ? $"modifier tensor '{name}' (slot {slot})" : $"modifier tensor {slot}";

    /// <summary>The kernel in messages: its <see cref="IAttentionKernel.Origin"/> (a graph's node) with its struct, else the struct.</summary>
    public static string Kernel<TKernel>() where TKernel : struct, IAttentionKernel =>
        TKernel.Origin is { } origin ? $"{origin} ({typeof(TKernel).Name})" : typeof(TKernel).Name;

    /// <summary>The kernel, the <see cref="Name{TKernel}"/> of slot <paramref name="slot"/> and the shape of this launch's tensor there.</summary>
    public string Label<TKernel>(int slot) where TKernel : struct, IAttentionKernel
    {
        string shape = this[slot] switch
        {
            Tensor<int> i => TensorShape.Format(i.Shape),
            Tensor<float> f => TensorShape.Format(f.Shape),
            _ => "(none)",
        };
        return $"{Kernel<TKernel>()}: {Name<TKernel>(slot)} of shape {shape}";
    }

    /// <summary>The error of a modifier's read at <paramref name="index"/> outside the tensor <paramref name="label"/> describes (<see cref="Label{TKernel}"/>).</summary>
    public static IndexOutOfRangeException OutOfRange(string label, ReadOnlySpan<int> index, Exception? inner = null) =>
        new($"{label} was read at [{string.Join(", ", index.ToArray())}], outside its shape: a score or mask modifier indexed past it " +
            "(pass a tensor that covers every (batch, head, query, key) the modifier reads; docs/kernels/mods.md).", inner);

    /// <summary>The first three axes of a modifier tensor (1 past its rank).</summary>
    public static (int D0, int D1, int D2) Dims(ReadOnlySpan<int> shape) =>
        (shape[0], shape.Length > 1 ? shape[1] : 1, shape.Length > 2 ? shape[2] : 1);
}

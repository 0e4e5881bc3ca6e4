using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Attention.Kernels.Cpu;

/// <summary>
/// A modifier tensor on the CPU: the tensor's memory and its first three axes (docs/kernels/mods.md). Every read checks its
/// indices against the axes (one unsigned compare each) and throws <see cref="ModTensorReadException"/> outside them, which
/// the launch (<see cref="CpuStorage"/>) turns into an <see cref="IndexOutOfRangeException"/> naming the tensor, found by its
/// address.
/// </summary>
public readonly unsafe struct CpuModTensor<T> : IModTensor<T> where T : unmanaged
{
    private readonly T* _data;
    private readonly int _d0, _d1, _d2;

    /// <summary>An accessor over <paramref name="data"/> with axes d0 × d1 × d2 (1 past the rank).</summary>
    public CpuModTensor(T* data, int d0, int d1, int d2)
    {
        _data = data;
        (_d0, _d1, _d2) = (d0, d1, d2);
    }

    /// <inheritdoc/>
    public T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((ulong)(long)index >= (ulong)((long)_d0 * _d1 * _d2))
                ThrowOutOfRange((nint)_data, _d0, _d1, _d2, 1, index);
            return _data[index];
        }
    }

    /// <inheritdoc/>
    public T this[int i0, int i1]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            // Non-short-circuit |: one branch for both axes.
            if ((uint)i0 >= (uint)_d0 | (uint)i1 >= (uint)_d1)
                ThrowOutOfRange((nint)_data, _d0, _d1, _d2, 2, i0, i1);
            return _data[(long)i0 * _d1 + i1];
        }
    }

    /// <inheritdoc/>
    public T this[int i0, int i1, int i2]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)i0 >= (uint)_d0 | (uint)i1 >= (uint)_d1 | (uint)i2 >= (uint)_d2)
                ThrowOutOfRange((nint)_data, _d0, _d1, _d2, 3, i0, i1, i2);
            return _data[((long)i0 * _d1 + i1) * _d2 + i2];
        }
    }

    /// <inheritdoc/>
    public int Dim(int axis) => axis switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => 1 };

    // Static, fields by value: an instance call would take the accessor's address and keep the JIT from holding it in registers
    // on the hot path. It only throws, so the JIT treats its call as not returning (cold).
    [DoesNotReturn]
    private static void ThrowOutOfRange(nint data, int d0, int d1, int d2, int arity, int i0, int i1 = 0, int i2 = 0) =>
        throw new ModTensorReadException(data, $"A modifier tensor (axes [{d0}, {d1}, {d2}])", new[] { i0, i1, i2 }[..arity]);
}

/// <summary>Builds the CPU accessors of a launch's modifier tensors.</summary>
public static unsafe class CpuModTensors
{
    /// <summary>
    /// The accessors of <paramref name="args"/> (checked already by <see cref="ModTensorArgs.ExpectFor{TKernel}"/>), over the
    /// tensors' memory on the CPU; the tensors must stay alive while they are used.
    /// </summary>
    public static ModTensors<CpuModTensor<int>, CpuModTensor<float>> From(in ModTensorArgs args) => Build(args, pins: null);

    /// <summary>
    /// As <see cref="From"/>, over host copies of the tensors (on any device): <paramref name="pins"/>[slot] pins an <c>int[]</c>
    /// or <c>float[]</c> with the elements of slot's tensor, and must stay allocated while the accessors are used.
    /// </summary>
    public static ModTensors<CpuModTensor<int>, CpuModTensor<float>> FromHost(in ModTensorArgs args, System.Runtime.InteropServices.GCHandle[] pins) =>
        Build(args, pins);

    private static ModTensors<CpuModTensor<int>, CpuModTensor<float>> Build(in ModTensorArgs args, System.Runtime.InteropServices.GCHandle[]? pins)
    {
        var tensors = default(ModTensors<CpuModTensor<int>, CpuModTensor<float>>);
        for (int slot = 0; slot < args.Count; slot++)
        {
            switch (args[slot])
            {
                case Tensor<int> i:
                    var (a, b, c) = ModTensorArgs.Dims(i.Shape);
                    tensors.SetInt(slot, new CpuModTensor<int>((int*)Address(args, slot, pins), a, b, c));
                    break;
                case Tensor<float> f:
                    var (x, y, z) = ModTensorArgs.Dims(f.Shape);
                    tensors.SetFloat(slot, new CpuModTensor<float>((float*)Address(args, slot, pins), x, y, z));
                    break;
            }
        }
        return tensors;
    }

    /// <summary>Where slot's accessor reads: the tensor's memory, or its pinned host copy.</summary>
    private static nint Address(in ModTensorArgs args, int slot, System.Runtime.InteropServices.GCHandle[]? pins) =>
        pins is not null ? pins[slot].AddrOfPinnedObject()
        : args[slot] switch { Tensor<int> i => (nint)CpuTensor.Pointer(i), Tensor<float> f => (nint)CpuTensor.Pointer(f), _ => 0 };

    /// <summary>
    /// The error of <paramref name="read"/> with the tensor named by <typeparamref name="TKernel"/> and its shape in
    /// <paramref name="args"/> (<see cref="ModTensorArgs.OutOfRange"/>): the accessor is found by its address, as built by
    /// <see cref="From"/> (<paramref name="pins"/> null) or <see cref="FromHost"/>.
    /// </summary>
    public static IndexOutOfRangeException Named<TKernel>(in ModTensorArgs args, ModTensorReadException read,
        System.Runtime.InteropServices.GCHandle[]? pins = null) where TKernel : struct, IAttentionKernel
    {
        for (int slot = 0; slot < args.Count; slot++)
        {
            if (Address(args, slot, pins) == read.Address)
                return ModTensorArgs.OutOfRange(args.Label<TKernel>(slot), [.. read.Index], read);
        }
        return new IndexOutOfRangeException(read.Message, read);
    }
}

/// <summary>
/// A read of a <see cref="CpuModTensor{T}"/> outside its axes, with the accessor's address and the index: the launch
/// (<see cref="CpuModTensors.Named{TKernel}"/>) turns it into the <see cref="IndexOutOfRangeException"/> of
/// <see cref="ModTensorArgs.OutOfRange"/>, which names the tensor and its shape (IndexOutOfRangeException is sealed, so this
/// cannot be one).
/// </summary>
public sealed class ModTensorReadException(nint address, string label, int[] index)
    : Exception(ModTensorArgs.OutOfRange(label, index).Message)
{
    /// <summary>The first element of the tensor read.</summary>
    public nint Address { get; } = address;

    /// <summary>The index read (one to three values).</summary>
    public IReadOnlyList<int> Index { get; } = index;
}

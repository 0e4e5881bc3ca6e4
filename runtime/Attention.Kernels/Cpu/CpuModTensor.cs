using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Attention.Kernels.Cpu;

/// <summary>
/// A modifier tensor on the CPU: the tensor's memory and its first three axes (docs/kernels/mods.md). Every read checks its
/// indices against the axes (one unsigned compare each) and throws <see cref="IndexOutOfRangeException"/> outside them.
/// The accessor knows its slot, not the tensor's name: the launch (<see cref="CpuStorage"/>) names the tensor in the error.
/// </summary>
public readonly unsafe struct CpuModTensor<T> : IModTensor<T> where T : unmanaged
{
    private readonly T* _data;
    private readonly int _d0, _d1, _d2, _length, _slot;

    /// <summary>
    /// An accessor over <paramref name="data"/> with axes d0 × d1 × d2 (1 past the rank), slot <paramref name="slot"/> of its launch
    /// (carried by the error of a read outside the axes).
    /// </summary>
    public CpuModTensor(T* data, int d0, int d1, int d2, int slot = 0)
    {
        _data = data;
        (_d0, _d1, _d2) = (d0, d1, d2);
        _length = (int)Math.Min((long)d0 * d1 * d2, int.MaxValue);
        _slot = slot;
    }

    /// <inheritdoc/>
    public T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)_length)
                ThrowOutOfRange(1, index);
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
                ThrowOutOfRange(2, i0, i1);
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
                ThrowOutOfRange(3, i0, i1, i2);
            return _data[((long)i0 * _d1 + i1) * _d2 + i2];
        }
    }

    /// <inheritdoc/>
    public int Dim(int axis) => axis switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => 1 };

    // A method that only throws: the JIT then treats its call as not returning and keeps it out of the hot path.
    [DoesNotReturn]
    private void ThrowOutOfRange(int arity, int i0, int i1 = 0, int i2 = 0) => throw ReadError(arity, i0, i1, i2);

    private ModTensorReadException ReadError(int arity, int i0, int i1, int i2) =>
        new(_slot, $"Modifier tensor {_slot} (axes [{_d0}, {_d1}, {_d2}])", new[] { i0, i1, i2 }[..arity]);
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
                    int* ints = pins is null ? CpuTensor.Pointer(i) : (int*)pins[slot].AddrOfPinnedObject();
                    tensors.SetInt(slot, new CpuModTensor<int>(ints, a, b, c, slot));
                    break;
                case Tensor<float> f:
                    var (x, y, z) = ModTensorArgs.Dims(f.Shape);
                    float* floats = pins is null ? CpuTensor.Pointer(f) : (float*)pins[slot].AddrOfPinnedObject();
                    tensors.SetFloat(slot, new CpuModTensor<float>(floats, x, y, z, slot));
                    break;
            }
        }
        return tensors;
    }

    /// <summary>
    /// The error of <paramref name="read"/> (an accessor knows only its slot) with the tensor named by <typeparamref name="TKernel"/>
    /// and its shape in <paramref name="args"/> (<see cref="ModTensorArgs.OutOfRange"/>).
    /// </summary>
    public static IndexOutOfRangeException Named<TKernel>(in ModTensorArgs args, ModTensorReadException read) where TKernel : struct, IAttentionKernel =>
        ModTensorArgs.OutOfRange(args.Label<TKernel>(read.Slot), [.. read.Index], read);
}

/// <summary>
/// A read of a <see cref="CpuModTensor{T}"/> outside its axes, with its slot and index: the launch (<see cref="CpuStorage"/>)
/// turns it into the <see cref="IndexOutOfRangeException"/> of <see cref="ModTensorArgs.OutOfRange"/>, which names the tensor and
/// its shape (IndexOutOfRangeException is sealed, so this cannot be one).
/// </summary>
public sealed class ModTensorReadException(int slot, string label, int[] index)
    : Exception(ModTensorArgs.OutOfRange(label, index).Message)
{
    /// <summary>The slot of the tensor read.</summary>
    public int Slot { get; } = slot;

    /// <summary>The index read (one to three values).</summary>
    public IReadOnlyList<int> Index { get; } = index;
}

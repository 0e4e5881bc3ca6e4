using Attention.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace Attention.Kernels.Ilgpu.Kernels;

/// <summary>
/// A modifier tensor inside an ILGPU kernel: the tensor's view and its first three axes (docs/kernels/mods.md). A kernel cannot
/// throw, so a read outside the axes returns 0 and records itself in the launch's error record (<see cref="ModTensorErrors"/>):
/// the first such read wins it, and the backend throws after the launch.
/// </summary>
public readonly struct IlgpuModTensor<T> : IModTensor<T> where T : unmanaged
{
    private readonly ArrayView<T> _view;
    private readonly int _d0, _d1, _d2, _slot;
    private readonly ArrayView<int> _errors;

    /// <summary>
    /// An accessor over <paramref name="view"/> with axes d0 × d1 × d2 (1 past the rank), slot <paramref name="slot"/> of the
    /// launch; a read outside the axes is recorded in <paramref name="errors"/> (<see cref="ModTensorErrors.Length"/> ints; empty: not recorded).
    /// </summary>
    public IlgpuModTensor(ArrayView<T> view, int d0, int d1, int d2, ArrayView<int> errors, int slot) =>
        (_view, _d0, _d1, _d2, _errors, _slot) = (view, d0, d1, d2, errors, slot);

    /// <inheritdoc/>
    public T this[int index] => (ulong)(long)index < (ulong)_view.Length ? _view[index] : OutOfRange(1, index, 0, 0);

    /// <inheritdoc/>
    public T this[int i0, int i1] =>
        ((uint)i0 < (uint)_d0) & ((uint)i1 < (uint)_d1) ? _view[(long)i0 * _d1 + i1] : OutOfRange(2, i0, i1, 0);

    /// <inheritdoc/>
    public T this[int i0, int i1, int i2] =>
        ((uint)i0 < (uint)_d0) & ((uint)i1 < (uint)_d1) & ((uint)i2 < (uint)_d2) ? _view[((long)i0 * _d1 + i1) * _d2 + i2] : OutOfRange(3, i0, i1, i2);

    /// <inheritdoc/>
    public int Dim(int axis) => axis == 0 ? _d0 : axis == 1 ? _d1 : axis == 2 ? _d2 : 1;

    /// <summary>Records the read (if it is the launch's first) as slot + 1, the index's arity, and the index; reads 0.</summary>
    private T OutOfRange(int arity, int i0, int i1, int i2)
    {
        if (_errors.Length >= ModTensorErrors.Length && Atomic.CompareExchange(ref _errors[0], 0, _slot + 1) == 0)
        {
            _errors[1] = arity;
            _errors[2] = i0;
            _errors[3] = i1;
            _errors[4] = i2;
        }
        return default;
    }
}

/// <summary>Builds the ILGPU accessors of a launch's modifier tensors.</summary>
public static class IlgpuModTensors
{
    /// <summary>
    /// The accessors of <paramref name="args"/> (checked already by <see cref="ModTensorArgs.ExpectFor{TKernel}"/>), recording
    /// reads outside their shapes in <paramref name="errors"/>; unused slots are empty views.
    /// </summary>
    public static ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>> From(in ModTensorArgs args, ArrayView<int> errors)
    {
        var tensors = default(ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>>);
        for (int slot = 0; slot < args.Count; slot++)
        {
            switch (args[slot])
            {
                case Tensor<int> i:
                    var (a, b, c) = ModTensorArgs.Dims(i.Shape);
                    tensors.SetInt(slot, new IlgpuModTensor<int>(i.View(), a, b, c, errors, slot));
                    break;
                case Tensor<float> f:
                    var (x, y, z) = ModTensorArgs.Dims(f.Shape);
                    tensors.SetFloat(slot, new IlgpuModTensor<float>(f.View(), x, y, z, errors, slot));
                    break;
            }
        }
        return tensors;
    }
}

/// <summary>
/// A device's record of the first modifier-tensor read outside its shape in a launch: [slot + 1 (0: none), arity, i0, i1, i2].
/// Launches whose modifiers read tensors clear it, run, and read it back (<see cref="Check{TKernel}"/>), holding
/// <see cref="Gate"/> so that concurrent launches on one device do not share it. That readback synchronizes the device: the
/// price of turning a kernel's out-of-range read into an exception, paid only by kernels whose modifiers read tensors.
/// </summary>
internal sealed class ModTensorErrors(Accelerator accelerator) : IDisposable
{
    /// <summary>Ints in the record.</summary>
    public const int Length = 5;

    private readonly MemoryBuffer1D<int, Stride1D.Dense> _buffer = accelerator.Allocate1D<int>(Length);

    /// <summary>Held from <see cref="Clear"/> to <see cref="Check{TKernel}"/>.</summary>
    public object Gate { get; } = new();

    /// <summary>The record, for <see cref="IlgpuModTensors.From"/>.</summary>
    public ArrayView<int> View => _buffer.View;

    /// <summary>Clears the record on the default stream, before the launch.</summary>
    public void Clear() => _buffer.View.MemSetToZero(accelerator.DefaultStream);

    /// <summary>Waits for the launch and throws if one of its modifiers read outside a tensor of <paramref name="args"/>.</summary>
    public void Check<TKernel>(IlgpuDevice device, in ModTensorArgs args) where TKernel : struct, IAttentionKernel
    {
        Span<int> record = stackalloc int[Length];
        _buffer.View.CopyToCPU(accelerator.DefaultStream, record);
        device.Synchronize();
        if (record[0] != 0)
            throw ModTensorArgs.OutOfRange(args.Label<TKernel>(record[0] - 1), record.Slice(2, Math.Clamp(record[1], 1, 3)));
    }

    public void Dispose() => _buffer.Dispose();
}

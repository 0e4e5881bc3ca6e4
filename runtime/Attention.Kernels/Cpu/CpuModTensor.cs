using System.Runtime.CompilerServices;

namespace Attention.Kernels.Cpu;

/// <summary>A modifier tensor on the CPU: the tensor's memory and its first three axes (docs/kernels/mods.md).</summary>
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
        get => _data[index];
    }

    /// <inheritdoc/>
    public T this[int i0, int i1]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _data[(long)i0 * _d1 + i1];
    }

    /// <inheritdoc/>
    public T this[int i0, int i1, int i2]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _data[((long)i0 * _d1 + i1) * _d2 + i2];
    }

    /// <inheritdoc/>
    public int Dim(int axis) => axis switch { 0 => _d0, 1 => _d1, 2 => _d2, _ => 1 };
}

/// <summary>Builds the CPU accessors of a launch's modifier tensors.</summary>
public static unsafe class CpuModTensors
{
    /// <summary>The accessors of <paramref name="args"/> (checked already by <see cref="ModTensorArgs.ExpectFor{TKernel}"/>); the tensors must stay alive while they are used.</summary>
    public static ModTensors<CpuModTensor<int>, CpuModTensor<float>> From(in ModTensorArgs args)
    {
        var tensors = default(ModTensors<CpuModTensor<int>, CpuModTensor<float>>);
        for (int slot = 0; slot < args.Count; slot++)
        {
            switch (args[slot])
            {
                case Tensor<int> i:
                    var (a, b, c) = ModTensorArgs.Dims(i.Shape);
                    tensors.SetInt(slot, new CpuModTensor<int>(CpuTensor.Pointer(i), a, b, c));
                    break;
                case Tensor<float> f:
                    var (x, y, z) = ModTensorArgs.Dims(f.Shape);
                    tensors.SetFloat(slot, new CpuModTensor<float>(CpuTensor.Pointer(f), x, y, z));
                    break;
            }
        }
        return tensors;
    }
}

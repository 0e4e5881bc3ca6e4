using Attention.Kernels.Ilgpu;
using ILGPU;

namespace Attention.Kernels.Ilgpu.Kernels;

/// <summary>A modifier tensor inside an ILGPU kernel: the tensor's view and its first three axes (docs/kernels/mods.md).</summary>
public readonly struct IlgpuModTensor<T> : IModTensor<T> where T : unmanaged
{
    private readonly ArrayView<T> _view;
    private readonly int _d0, _d1, _d2;

    /// <summary>An accessor over <paramref name="view"/> with axes d0 × d1 × d2 (1 past the rank).</summary>
    public IlgpuModTensor(ArrayView<T> view, int d0, int d1, int d2) => (_view, _d0, _d1, _d2) = (view, d0, d1, d2);

    /// <inheritdoc/>
    public T this[int index] => _view[index];

    /// <inheritdoc/>
    public T this[int i0, int i1] => _view[(long)i0 * _d1 + i1];

    /// <inheritdoc/>
    public T this[int i0, int i1, int i2] => _view[((long)i0 * _d1 + i1) * _d2 + i2];

    /// <inheritdoc/>
    public int Dim(int axis) => axis == 0 ? _d0 : axis == 1 ? _d1 : axis == 2 ? _d2 : 1;
}

/// <summary>Builds the ILGPU accessors of a launch's modifier tensors.</summary>
public static class IlgpuModTensors
{
    /// <summary>The accessors of <paramref name="args"/> (checked already by <see cref="ModTensorArgs.ExpectFor{TKernel}"/>); unused slots are empty views.</summary>
    public static ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>> From(in ModTensorArgs args)
    {
        var tensors = default(ModTensors<IlgpuModTensor<int>, IlgpuModTensor<float>>);
        for (int slot = 0; slot < args.Count; slot++)
        {
            switch (args[slot])
            {
                case Tensor<int> i:
                    var (a, b, c) = ModTensorArgs.Dims(i.Shape);
                    tensors.SetInt(slot, new IlgpuModTensor<int>(i.View(), a, b, c));
                    break;
                case Tensor<float> f:
                    var (x, y, z) = ModTensorArgs.Dims(f.Shape);
                    tensors.SetFloat(slot, new IlgpuModTensor<float>(f.View(), x, y, z));
                    break;
            }
        }
        return tensors;
    }
}

using ILGPU;

namespace Attention.Kernels.Ilgpu;

/// <summary>Tensors of an <see cref="IlgpuDevice"/> as ILGPU views: the same memory, no copy.</summary>
public static class IlgpuTensors
{
    /// <summary>
    /// The tensor's elements as an <see cref="ArrayView{T}"/> of its device's accelerator, for the application's own ILGPU
    /// kernels. Valid while the tensor is alive and not disposed; work queued on the accelerator's default stream is ordered
    /// with the library's kernels.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor does not live on an <see cref="IlgpuDevice"/>.</exception>
    public static ArrayView<T> View<T>(this Tensor<T> tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Buffer is not IlgpuBuffer buffer)
            throw new ArgumentException($"{tensor} does not live on an ILGPU device.", nameof(tensor));
        return buffer.View<T>(0, tensor.Length);
    }

    /// <summary>
    /// The tensor's elements reinterpreted as <typeparamref name="TView"/> (same size in bytes per element), e.g. a
    /// <c>Tensor&lt;Half&gt;</c> as <c>ArrayView&lt;ILGPU.Half&gt;</c>: System.Half cannot be used inside ILGPU kernels.
    /// </summary>
    public static ArrayView<TView> View<T, TView>(this Tensor<T> tensor) where T : unmanaged where TView : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != System.Runtime.CompilerServices.Unsafe.SizeOf<TView>())
            throw new ArgumentException($"{typeof(T).Name} and {typeof(TView).Name} differ in size.", nameof(tensor));
        if (tensor.Buffer is not IlgpuBuffer buffer)
            throw new ArgumentException($"{tensor} does not live on an ILGPU device.", nameof(tensor));
        return buffer.View<TView>(0, tensor.Length);
    }
}

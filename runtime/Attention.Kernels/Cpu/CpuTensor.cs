namespace Attention.Kernels.Cpu;

/// <summary>Raw access to CPU tensors for generated kernels.</summary>
public static unsafe class CpuTensor
{
    /// <summary>First element of a tensor that lives on the CPU; valid while the tensor is alive and not disposed.</summary>
    public static T* Pointer<T>(Tensor<T> tensor) where T : unmanaged
    {
        if (tensor.Buffer is not CpuBuffer buffer)
            throw new ArgumentException($"{tensor} is not on the CPU device.", nameof(tensor));
        buffer.ThrowIfDisposed();
        return (T*)buffer.Pointer;
    }
}

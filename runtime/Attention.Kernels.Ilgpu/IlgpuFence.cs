using ILGPU.Runtime.Cuda;

namespace Attention.Kernels.Ilgpu;

/// <summary>
/// A CUDA event recorded on the accelerator's stream: complete once the GPU has run everything queued before it
/// (<c>cuEventQuery</c>, which never blocks). The memory pool reuses a returned block only after its fence completed.
/// </summary>
internal sealed class CudaEventFence : DeviceFence, IDisposable
{
    private IntPtr _event;
    private int _completed;

    public CudaEventFence(CudaStream stream)
    {
        Check(CudaAPI.CurrentAPI.CreateEvent(out _event, CudaEventFlags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        Check(CudaAPI.CurrentAPI.RecordEvent(_event, stream.StreamPtr), "cuEventRecord");
    }

    public override bool IsCompleted
    {
        get
        {
            if (Volatile.Read(ref _completed) != 0)
                return true;
            var status = CudaAPI.CurrentAPI.QueryEvent(_event);
            if (status == CudaError.CUDA_ERROR_NOT_READY)
                return false;
            Check(status, "cuEventQuery");
            Dispose();
            return true;
        }
    }

    public override void Wait()
    {
        while (!IsCompleted)
            Thread.Yield();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
            CudaAPI.CurrentAPI.DestroyEvent(_event);
    }

    private static void Check(CudaError error, string call)
    {
        if (error != CudaError.CUDA_SUCCESS)
            throw new InvalidOperationException($"{call} failed: {error}.");
    }
}

/// <summary>
/// A fence for queues that offer no non-blocking query through ILGPU (OpenCL): it completes when the device has been
/// synchronized after it was recorded (any <see cref="Device.Synchronize"/>, copy to the host or <see cref="Wait"/>).
/// Conservative: a block returned under it is reused only after the next synchronization.
/// </summary>
internal sealed class SynchronizationFence(IlgpuDevice device, long epoch) : DeviceFence
{
    public override bool IsCompleted => device.CompletedEpoch >= epoch;

    public override void Wait()
    {
        if (!IsCompleted)
            device.Synchronize();
    }
}

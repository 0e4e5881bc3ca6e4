namespace Attention.Kernels;

/// <summary>
/// A point in a device's stream of work: it completes once every piece of work queued on the device before
/// the fence was recorded has finished. The memory pool uses fences so that a returned block is reused only
/// after the kernels that used it are done.
/// </summary>
/// <remarks>
/// Synchronous devices (the CPU) return <see cref="Completed"/>. Queue-based devices (ILGPU accelerators) wrap an
/// event (a marker on the queue / <c>cuEventRecord</c>) and override <see cref="IsCompleted"/> and <see cref="Wait"/>.
/// </remarks>
public abstract class DeviceFence
{
    /// <summary>A fence that has already completed: the work before it finished synchronously.</summary>
    public static DeviceFence Completed { get; } = new CompletedFence();

    /// <summary>True once the work before the fence has finished. Must be cheap and must not block.</summary>
    public abstract bool IsCompleted { get; }

    /// <summary>Blocks until the work before the fence has finished.</summary>
    public abstract void Wait();

    private sealed class CompletedFence : DeviceFence
    {
        public override bool IsCompleted => true;

        public override void Wait()
        {
        }
    }
}

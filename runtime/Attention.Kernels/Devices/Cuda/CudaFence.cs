using Attention.Kernels.Cuda;
using static Attention.Kernels.Cuda.CudaNative;

namespace Attention.Kernels;

/// <summary>
/// A <see cref="DeviceFence"/> backed by a CUDA event recorded on a stream (<see cref="CudaDevice.RecordFence(CudaStream)"/>).
/// <see cref="IsCompleted"/> polls <c>cuEventQuery</c> (never blocks); <see cref="Wait"/> is <c>cuEventSynchronize</c>. The
/// event is destroyed as soon as completion has been observed, so a pool full of finished fences holds no driver objects.
/// </summary>
internal sealed unsafe class CudaFence : DeviceFence
{
    private readonly CudaDevice _device;
    private readonly object _lock = new();
    private nint _event;
    private volatile bool _completed;

    internal CudaFence(CudaDevice device, nint recordedEvent)
    {
        _device = device;
        _event = recordedEvent;
    }

    /// <inheritdoc />
    /// <exception cref="CudaException">The driver reports an error other than "not ready" (e.g. a kernel fault on the stream).</exception>
    public override bool IsCompleted
    {
        get
        {
            if (_completed)
                return true;
            lock (_lock)
            {
                if (_completed)
                    return true;
                if (_device.IsDisposed)
                    return Complete(destroy: false); // the context is gone, and with it all of its work
                _device.MakeCurrent();
                int result = cuEventQuery(_event);
                if (result == ErrorNotReady)
                    return false;
                CudaException.Check(result, "cuEventQuery");
                return Complete(destroy: true);
            }
        }
    }

    /// <inheritdoc />
    public override void Wait()
    {
        if (_completed)
            return;
        lock (_lock)
        {
            if (_completed)
                return;
            if (_device.IsDisposed)
            {
                Complete(destroy: false);
                return;
            }
            _device.MakeCurrent();
            CudaException.Check(cuEventSynchronize(_event), "cuEventSynchronize");
            Complete(destroy: true);
        }
    }

    private bool Complete(bool destroy)
    {
        if (destroy)
            cuEventDestroy_v2(_event);
        _event = 0;
        _completed = true;
        GC.SuppressFinalize(this);
        return true;
    }

    /// <summary>A fence dropped before anyone saw it complete still gives its event back (while the context lives).</summary>
    ~CudaFence()
    {
        if (_event != 0 && !_device.IsDisposed)
            cuEventDestroy_v2(_event);
    }
}

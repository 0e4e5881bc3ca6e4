using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Attention.Kernels.Ilgpu.Kernels;
using Attention.Kernels.Ilgpu.Ops;
using Attention.Kernels.Memory;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Attention.Kernels.Ilgpu;

/// <summary>
/// A device over an ILGPU <see cref="ILGPU.Runtime.Accelerator"/>: a CUDA GPU, an OpenCL 2.0+ GPU, or ILGPU's CPU
/// accelerator. It runs the generated attention kernels through <see cref="FlashAttention"/> (compiled by ILGPU at
/// first use per kernel and storage type, then cached) and the graph ops through <see cref="IlgpuGraphOpKernels"/>.
/// All work goes to the accelerator's default stream, in order.
/// </summary>
/// <remarks>
/// Create one with <see cref="Create"/> (or <c>Device.Default</c> with <c>ATTENTION_KERNELS_DEVICE=cuda|opencl|ilgpu-cpu</c>),
/// or wrap an accelerator you already have with <see cref="Wrap"/>. Tensors of this device expose their memory as ILGPU
/// views without copies (<see cref="IlgpuTensors.View{T}(Tensor{T})"/>).
/// </remarks>
public sealed class IlgpuDevice : Device
{
    private readonly bool _ownsAccelerator;
    private readonly ConcurrentDictionary<object, object> _kernels = new();
    private long _recordedEpoch;
    private long _completedEpoch;
    private IlgpuGraphOpKernels? _graphOps;
    private Kernels.ModTensorErrors? _modTensorErrors;

    private IlgpuDevice(Accelerator accelerator, bool ownsAccelerator)
    {
        Accelerator = accelerator;
        _ownsAccelerator = ownsAccelerator;
        Kind = accelerator.AcceleratorType switch
        {
            AcceleratorType.Cuda => DeviceKind.Cuda,
            AcceleratorType.OpenCL => DeviceKind.OpenCl,
            AcceleratorType.CPU => DeviceKind.IlgpuCpu,
            var other => throw new NotSupportedException($"ILGPU accelerator type {other} is not supported."),
        };
    }

    /// <summary>
    /// Creates a device of <paramref name="kind"/> (<see cref="DeviceKind.Cuda"/>, <see cref="DeviceKind.OpenCl"/> or
    /// <see cref="DeviceKind.IlgpuCpu"/>) on a process-wide ILGPU context; <paramref name="selector"/> picks one by index
    /// among that kind's devices or by part of its name (null: the first; for OpenCL, the first GPU).
    /// </summary>
    /// <exception cref="DeviceUnavailableException">No such device, or its driver is missing; the message says which.</exception>
    public static IlgpuDevice Create(DeviceKind kind, string? selector = null) =>
        IlgpuBackend.TryCreate(kind, selector) ?? throw new DeviceUnavailableException(kind,
            selector is null ? $"No {kind} device is available on this machine." : $"No {kind} device matches '{selector}' on this machine.");

    /// <summary>
    /// A device over an accelerator the application already has (its context must have algorithms enabled:
    /// <c>Context.Create(b => b.…().EnableAlgorithms())</c>). The accelerator stays the caller's: disposing the device
    /// does not dispose it.
    /// </summary>
    public static IlgpuDevice Wrap(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return new IlgpuDevice(accelerator, ownsAccelerator: false);
    }

    internal static IlgpuDevice Own(Accelerator accelerator) => new(accelerator, ownsAccelerator: true);

    /// <summary>The ILGPU accelerator behind the device.</summary>
    public Accelerator Accelerator { get; }

    /// <inheritdoc />
    public override string Name => Accelerator.Name;

    /// <inheritdoc />
    public override DeviceKind Kind { get; }

    /// <inheritdoc />
    public override bool RunsOnHost => Accelerator.AcceleratorType == AcceleratorType.CPU;

    /// <summary>Most threads of one group on this accelerator.</summary>
    public int MaxGroupSize => Accelerator.MaxNumThreadsPerGroup;

    internal long CompletedEpoch => Volatile.Read(ref _completedEpoch);

    /// <summary>The record of out-of-range modifier-tensor reads (docs/kernels/mods.md), allocated on first use.</summary>
    internal Kernels.ModTensorErrors ModTensorErrors =>
        LazyInitializer.EnsureInitialized(ref _modTensorErrors, () => new Kernels.ModTensorErrors(Accelerator));

    /// <inheritdoc />
    public override DeviceBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new IlgpuBuffer(this, bytes);
    }

    /// <inheritdoc />
    public override void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long destinationOffsetBytes = 0)
    {
        CheckRange(destination, destinationOffsetBytes, (long)source.Length * Unsafe.SizeOf<T>(), nameof(destination));
        if (source.IsEmpty)
            return;
        // ILGPU copies from pageable host memory before returning, so the span may be reused at once.
        ((IlgpuBuffer)destination).View<T>(destinationOffsetBytes, source.Length).CopyFromCPU(Accelerator.DefaultStream, source);
    }

    /// <inheritdoc />
    public override void CopyToHost<T>(DeviceBuffer source, Span<T> destination, long sourceOffsetBytes = 0)
    {
        CheckRange(source, sourceOffsetBytes, (long)destination.Length * Unsafe.SizeOf<T>(), nameof(source));
        if (destination.IsEmpty)
            return;
        ((IlgpuBuffer)source).View<T>(sourceOffsetBytes, destination.Length).CopyToCPU(Accelerator.DefaultStream, destination);
        Synchronize(); // the data is the caller's once this returns
    }

    /// <inheritdoc />
    public override void Fill<T>(DeviceBuffer buffer, T value)
    {
        CheckRange(buffer, 0, buffer.SizeInBytes, nameof(buffer));
        // The kernel fills raw bits (System.Half, BFloat16 and other non-primitive types cannot be used inside ILGPU kernels).
        switch (Unsafe.SizeOf<T>())
        {
            case 1: FillBits(buffer, Unsafe.As<T, byte>(ref value)); break;
            case 2: FillBits(buffer, Unsafe.As<T, ushort>(ref value)); break;
            case 4: FillBits(buffer, Unsafe.As<T, uint>(ref value)); break;
            case 8: FillBits(buffer, Unsafe.As<T, ulong>(ref value)); break;
            default: throw new NotSupportedException($"Fill of {Unsafe.SizeOf<T>()}-byte elements ({typeof(T).Name}) is not supported.");
        }
    }

    private void FillBits<TBits>(DeviceBuffer buffer, TBits bits) where TBits : unmanaged
    {
        long count = buffer.SizeInBytes / Unsafe.SizeOf<TBits>();
        if (count == 0)
            return;
        var fill = Kernel(typeof(FillKernel<TBits>), static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<TBits>, TBits>(FillKernel<TBits>.Run));
        fill((int)Math.Min(count, int.MaxValue / 2), ((IlgpuBuffer)buffer).View<TBits>(0, count), bits);
    }

    /// <inheritdoc />
    public override void Synchronize()
    {
        long epoch = Interlocked.Read(ref _recordedEpoch);
        Accelerator.Synchronize();
        // Everything recorded before the synchronization has finished.
        long completed;
        while ((completed = Volatile.Read(ref _completedEpoch)) < epoch && Interlocked.CompareExchange(ref _completedEpoch, epoch, completed) != completed)
        {
        }
    }

    /// <inheritdoc />
    public override DeviceFence RecordFence() => Accelerator.AcceleratorType switch
    {
        // The CPU accelerator runs each launch to completion before returning.
        AcceleratorType.CPU => DeviceFence.Completed,
        AcceleratorType.Cuda => new CudaEventFence((CudaStream)Accelerator.DefaultStream),
        _ => RecordSynchronizationFence(),
    };

    /// <summary>A fence that completes at the next synchronization of the device (queues with no non-blocking query).</summary>
    internal DeviceFence RecordSynchronizationFence() => new SynchronizationFence(this, Interlocked.Increment(ref _recordedEpoch));

    /// <inheritdoc />
    public override TimeSpan Time(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        // A wrapped accelerator whose context has no profiling gets the host-clock measure instead.
        if (!Accelerator.Context.Properties.EnableProfiling)
            return base.Time(work);
        using var start = Accelerator.DefaultStream.AddProfilingMarker();
        work();
        using var end = Accelerator.DefaultStream.AddProfilingMarker();
        end.Synchronize();
        return end.MeasureFrom(start);
    }

    /// <inheritdoc />
    public override void RunAttention<TKernel, T>(in AttentionLaunch<T> launch) => FlashAttention.Run<TKernel, T>(this, launch);

    /// <inheritdoc />
    public override IGraphOpKernels GraphOpKernels => _graphOps ??= new IlgpuGraphOpKernels(this);

    /// <summary>
    /// The loaded kernel for <paramref name="key"/> (one per kernel method instantiation), loading it with
    /// <paramref name="load"/> at first use: ILGPU compiles it then (and the driver JIT-compiles the PTX or OpenCL C).
    /// </summary>
    internal TDelegate Kernel<TDelegate>(object key, Func<Accelerator, TDelegate> load) where TDelegate : Delegate =>
        (TDelegate)_kernels.GetOrAdd(key, static (_, state) => state.load(state.accelerator), (load, accelerator: Accelerator));

    /// <inheritdoc />
    protected override MemoryPoolOptions CreatePoolOptions()
    {
        var options = MemoryPoolOptions.FromEnvironment();
        // A GPU's own memory is the capacity; the CPU accelerator shares the process's.
        return Accelerator.AcceleratorType == AcceleratorType.CPU ? options : options with { Capacity = Accelerator.MemorySize };
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        _modTensorErrors?.Dispose();
        if (_ownsAccelerator)
            Accelerator.Dispose();
    }

    /// <summary>Sets every element of a view to a value (poisoning outputs, zeroing); T is an unsigned integer of the element's size.</summary>
    internal static class FillKernel<T> where T : unmanaged
    {
        public static void Run(Index1D index, ArrayView<T> view, T value)
        {
            // Grid-stride: the launch covers at most int.MaxValue / 2 threads, the view may be longer.
            for (long i = index; i < view.Length; i += Grid.DimX * (long)Group.DimX)
                view[i] = value;
        }
    }
}

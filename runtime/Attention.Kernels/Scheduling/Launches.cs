using System.Collections.Concurrent;
using Attention.Kernels.Memory;

namespace Attention.Kernels.Scheduling;

/// <summary>One kernel launch a task submits to the <see cref="Balancer"/>.</summary>
/// <param name="Launch">Runs the kernel (e.g. a generated <c>{Name}Kernel.Launch(q, k, v, output, lse)</c>) and returns when it finished.</param>
/// <param name="Cost">The kernel's cost estimate (generated <c>Cost(batch, queryLength, keyLength)</c>); FLOPs drive the duration estimate.</param>
public sealed record LaunchRequest(Action<LaunchContext> Launch, KernelCost Cost)
{
    /// <summary>
    /// Device memory the launch needs while it runs (its outputs and scratch, say <c>Cost.ScratchBytes</c> + output bytes).
    /// It is reserved against the pool's capacity at admission and released when the launch ends.
    /// </summary>
    public long MemoryBytes { get; init; }

    /// <summary>Expected duration, when known; otherwise the balancer estimates it from <see cref="Cost"/> and the device's measured FLOP rate.</summary>
    public TimeSpan? Estimate { get; init; }
}

/// <summary>What a running launch can see.</summary>
public sealed class LaunchContext
{
    internal LaunchContext(BalancedTask task, CancellationToken cancellationToken, MemoryReservation? reservation)
    {
        Task = task;
        CancellationToken = cancellationToken;
        Reservation = reservation;
    }

    /// <summary>The task that submitted the launch.</summary>
    public BalancedTask Task { get; }

    /// <summary>The submission's token; a kernel may poll it and throw <see cref="OperationCanceledException"/> to stop early.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The memory claimed for the launch in the device pool (null when it declared none, or the balancer has no pool).</summary>
    public MemoryReservation? Reservation { get; }
}

/// <summary>A launch the balancer has admitted and handed to a <see cref="LaunchExecutor"/>.</summary>
public sealed class ScheduledLaunch
{
    private readonly Balancer.Submission _submission;
    private int _finished;

    internal ScheduledLaunch(Balancer.Submission submission, LaunchContext context)
    {
        _submission = submission;
        Context = context;
    }

    /// <summary>The request as submitted.</summary>
    public LaunchRequest Request => _submission.Request;

    /// <summary>The duration the balancer charged at dispatch (corrected with the measured one at <see cref="Finish"/>).</summary>
    public TimeSpan Estimate => TimeSpan.FromSeconds(_submission.EstimateSeconds);

    /// <summary>The launch's context.</summary>
    public LaunchContext Context { get; }

    /// <summary>Runs the kernel on the calling thread; returns the exception it threw, or null.</summary>
    public Exception? Invoke()
    {
        try
        {
            Request.Launch(Context);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>Reports the launch finished after <paramref name="duration"/> of device time (once).</summary>
    public void Finish(TimeSpan duration, Exception? error)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
            throw new InvalidOperationException("A launch can finish only once.");
        _submission.Balancer.Complete(_submission, duration, error);
    }
}

/// <summary>
/// Runs admitted launches on a device's worker slots. The balancer never starts more than <see cref="Slots"/>
/// launches at once; the executor calls <see cref="ScheduledLaunch.Finish"/> for each with its measured duration.
/// </summary>
public abstract class LaunchExecutor : IDisposable
{
    /// <summary>How many launches may run at once (the CPU runs one at a time on all cores; a GPU, one per queue).</summary>
    public abstract int Slots { get; }

    /// <summary>The clock durations are measured with.</summary>
    public abstract IClock Clock { get; }

    /// <summary>Starts <paramref name="launch"/>; must not block on it. Called outside the balancer's lock.</summary>
    public abstract void Start(ScheduledLaunch launch);

    /// <summary>Stops the executor's workers.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// The real-device executor: one dedicated thread per slot runs launches and measures each with the wall clock.
/// For queue-based devices the launch delegate should return when its work has completed (e.g. wait on its fence),
/// so the measured time is device time.
/// </summary>
public sealed class ThreadLaunchExecutor : LaunchExecutor
{
    private readonly BlockingCollection<ScheduledLaunch> _queue = [];
    private readonly Thread[] _threads;

    private readonly Device? _device;

    /// <summary>
    /// Starts <paramref name="slots"/> worker threads. With a <paramref name="device"/>, each launch's duration is the
    /// device's own measure of the work it queued (<see cref="Device.Time"/>: waits for it to finish, timed on the device's
    /// queue for accelerators); otherwise the wall time of the launch call on <paramref name="clock"/>.
    /// </summary>
    public ThreadLaunchExecutor(int slots = 1, IClock? clock = null, Device? device = null)
    {
        _device = device;
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Clock = clock ?? new SystemClock();
        _threads = new Thread[slots];
        for (int i = 0; i < slots; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"Attention.Kernels balancer slot {i}" };
            _threads[i].Start();
        }
    }

    /// <inheritdoc />
    public override int Slots => _threads.Length;

    /// <inheritdoc />
    public override IClock Clock { get; }

    /// <inheritdoc />
    public override void Start(ScheduledLaunch launch) => _queue.Add(launch);

    /// <inheritdoc />
    public override void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            if (thread != Thread.CurrentThread)
                thread.Join();
        }
        _queue.Dispose();
        base.Dispose();
    }

    private void Work()
    {
        foreach (var launch in _queue.GetConsumingEnumerable())
        {
            if (_device is not null)
            {
                Exception? error = null;
                TimeSpan duration;
                try
                {
                    duration = _device.Time(() => error = launch.Invoke());
                }
                catch (Exception ex)
                {
                    (duration, error) = (TimeSpan.Zero, error ?? ex);
                }
                launch.Finish(duration, error);
            }
            else
            {
                var start = Clock.Now;
                var error = launch.Invoke();
                launch.Finish(Clock.Now - start, error);
            }
        }
    }
}

/// <summary>
/// A deterministic executor for simulations: a launch's kernel runs at once (so faults surface), and its completion
/// is an event at <c>now + duration</c> on a <see cref="VirtualClock"/>, where the duration is the fake kernel's known
/// cost (by default the request's <see cref="LaunchRequest.Estimate"/>). <see cref="RunNext"/> pops events in time
/// order (ties in start order), so a run depends on nothing but its inputs.
/// </summary>
public sealed class SimulatedExecutor(VirtualClock clock, int slots = 1, Func<ScheduledLaunch, TimeSpan>? duration = null) : LaunchExecutor
{
    private readonly PriorityQueue<(ScheduledLaunch Launch, TimeSpan Duration, Exception? Error), (TimeSpan At, long Sequence)> _events = new();
    private readonly object _lock = new();
    private long _sequence;

    /// <inheritdoc />
    public override int Slots { get; } = slots >= 1 ? slots : throw new ArgumentOutOfRangeException(nameof(slots));

    /// <inheritdoc />
    public override IClock Clock => clock;

    /// <summary>Launches started and not yet finished.</summary>
    public int InFlight
    {
        get { lock (_lock) return _events.Count; }
    }

    /// <inheritdoc />
    public override void Start(ScheduledLaunch launch)
    {
        var error = launch.Invoke();
        var d = duration?.Invoke(launch) ?? launch.Request.Estimate ?? launch.Estimate;
        lock (_lock)
            _events.Enqueue((launch, d, error), (clock.Now + d, _sequence++));
    }

    /// <summary>Advances the clock to the earliest completion and finishes that launch; false when nothing is in flight.</summary>
    public bool RunNext()
    {
        (ScheduledLaunch Launch, TimeSpan Duration, Exception? Error) next;
        (TimeSpan At, long Sequence) when;
        lock (_lock)
        {
            if (!_events.TryDequeue(out next, out when))
                return false;
        }
        clock.AdvanceTo(when.At);
        next.Launch.Finish(next.Duration, next.Error);
        return true;
    }

    /// <summary>Runs events until nothing is in flight or <paramref name="stop"/> returns true (checked after each event); returns the events run.</summary>
    public long Run(Func<bool>? stop = null, long maxEvents = long.MaxValue)
    {
        long count = 0;
        while (count < maxEvents && RunNext())
        {
            count++;
            if (stop?.Invoke() == true)
                break;
        }
        return count;
    }
}

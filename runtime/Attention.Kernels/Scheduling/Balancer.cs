using Attention.Kernels.Memory;

namespace Attention.Kernels.Scheduling;

/// <summary>Settings of a <see cref="Balancer"/>.</summary>
public sealed record BalancerOptions
{
    /// <summary>The device pool whose capacity is C and from which launches reserve their memory. When null, the balancer keeps its own account against <see cref="Capacity"/>.</summary>
    public MemoryPool? Pool { get; init; }

    /// <summary>C when there is no <see cref="Pool"/> (bytes). Default unlimited.</summary>
    public long Capacity { get; init; } = long.MaxValue;

    /// <summary>Runs admitted launches. Default: one <see cref="ThreadLaunchExecutor"/> slot (the CPU runs one launch at a time on all cores).</summary>
    public LaunchExecutor? Executor { get; init; }

    /// <summary>FLOP rate assumed before any launch was measured (it is then learned from measured durations). Default 10 GFLOP/s.</summary>
    public double InitialFlopsPerSecond { get; init; } = 10e9;

    /// <summary>Queue delays kept per task for the percentiles (the most recent ones). Default 1,024.</summary>
    public int DelaySamples { get; init; } = 1024;
}

/// <summary>
/// Schedules kernel launches of several tasks on one device by importance: each backlogged task's share of device
/// time tracks α_i = w_i / Σ_j w_j (weighted fair queuing on virtual time, work-conserving), and a launch is admitted
/// only while its memory fits in the capacity C. See docs/runtime/balancer.md.
/// </summary>
/// <remarks>
/// <para><b>Algorithm</b> (start-time fair queuing with per-task virtual time, as in stride scheduling and Linux CFS):
/// every task has a virtual time V_i. Dispatch picks the backlogged task with the smallest V_i (ties: lowest id) and
/// charges it estimate / w_i at once, so concurrent slots spread across tasks; when the launch ends, the charge is
/// corrected by (measured − estimate) / w_i. Over any interval in which tasks stay backlogged, the device time they
/// receive is proportional to their weights, within one launch per task. A task that becomes backlogged again starts
/// at max(V_i, V_sys), where V_sys is the smallest V of the backlogged tasks: idle time earns no credit, and the share
/// an idle task leaves unused goes to the others in proportion to their weights (work conservation).</para>
/// <para><b>Admission</b>: the chosen task's next launch starts only when its <see cref="LaunchRequest.MemoryBytes"/>
/// can be reserved; otherwise the next task in virtual-time order may run in its place, but only if it also leaves room
/// for the blocked launch (so a large launch is never starved by small ones). A request larger than C fails at once.</para>
/// <para>Thread-safe. Completions of submissions run their continuations asynchronously, never under the lock.</para>
/// </remarks>
public sealed class Balancer : IDisposable
{
    private readonly object _lock = new();
    private readonly List<BalancedTask> _tasks = [];
    private readonly SortedSet<BalancedTask> _backlogged = new(VirtualTimeOrder.Instance);
    private readonly MemoryPool? _pool;
    private readonly LaunchExecutor _executor;
    private readonly bool _ownsExecutor;
    private readonly long _ownCapacity;
    private long _ownReserved;
    private int _freeSlots;
    private int _nextId;
    private double _systemVirtualTime;
    private double _flopsPerSecond;
    private bool _disposed;

    /// <summary>Creates a balancer. An executor passed in <paramref name="options"/> stays the caller's to dispose.</summary>
    public Balancer(BalancerOptions? options = null)
        : this(options, ownsExecutor: options?.Executor is null)
    {
    }

    private Balancer(BalancerOptions? options, bool ownsExecutor)
    {
        Options = options ?? new BalancerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(Options.Capacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.DelaySamples, 1);
        _pool = Options.Pool;
        _ownCapacity = Options.Capacity;
        _ownsExecutor = ownsExecutor;
        _executor = Options.Executor ?? new ThreadLaunchExecutor();
        _freeSlots = _executor.Slots;
        _flopsPerSecond = Options.InitialFlopsPerSecond > 0 ? Options.InitialFlopsPerSecond : 10e9;
        if (_pool is not null)
            _pool.MemoryAvailable += OnMemoryAvailable;
    }

    /// <summary>
    /// A balancer for <paramref name="device"/>: its pool is C, <paramref name="slots"/> worker threads run launches (stopped
    /// on dispose), and each launch is charged the time the device measured for it (<see cref="Device.Time"/>).
    /// </summary>
    public static Balancer ForDevice(Device device, int slots = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new Balancer(new BalancerOptions { Pool = device.Pool, Executor = new ThreadLaunchExecutor(slots, device: device) }, ownsExecutor: true);
    }

    /// <summary>The options.</summary>
    public BalancerOptions Options { get; }

    /// <summary>The clock service is measured with (the executor's).</summary>
    public IClock Clock => _executor.Clock;

    /// <summary>C, the memory capacity in bytes (the pool's when there is one).</summary>
    public long Capacity => _pool?.Capacity ?? _ownCapacity;

    /// <summary>Registers a task. Its virtual time starts at the current system virtual time, so it neither owes nor is owed service.</summary>
    /// <param name="name">Shown in snapshots.</param>
    /// <param name="importance">w_i, given or from indicators.</param>
    /// <param name="memoryDemand">c_i, the memory the task declares it needs; when null, c_i is the memory of its queued and running launches.</param>
    public BalancedTask Register(string name, Importance importance, long? memoryDemand = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (importance.Weight <= 0)
            throw new ArgumentOutOfRangeException(nameof(importance), "Use Importance.FromWeight or FromIndicators (default(Importance) has no weight).");
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var task = new BalancedTask(this, _nextId++, name, importance.Weight, memoryDemand, Clock.Now, Options.DelaySamples)
            {
                VirtualTime = _systemVirtualTime,
            };
            _tasks.Add(task);
            return task;
        }
    }

    /// <summary>Everything the display needs, consistent at one instant.</summary>
    public BalancerSnapshot Snapshot()
    {
        lock (_lock)
        {
            var now = Clock.Now;
            double totalWeight = _tasks.Sum(t => t.Weight);
            double totalService = _tasks.Sum(t => t.ServiceSeconds);
            var tasks = _tasks.Select(t => t.SnapshotLocked(now, totalWeight, totalService)).ToArray();
            long[] demands = [.. tasks.Select(t => t.DemandBytes)];
            long[] uses = [.. tasks.Select(t => t.UseBytes)];
            long capacity = Capacity;
            return new BalancerSnapshot(now, capacity, BalancerMath.Available(capacity, uses), BalancerMath.Remaining(capacity, demands, uses),
                _systemVirtualTime, _flopsPerSecond, tasks);
        }
    }

    /// <summary>Cancels every queued submission (running launches finish), detaches from the pool and stops an executor the balancer created.</summary>
    public void Dispose()
    {
        BalancedTask[] tasks;
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            tasks = [.. _tasks];
        }
        foreach (var task in tasks)
            task.Dispose();
        if (_pool is not null)
            _pool.MemoryAvailable -= OnMemoryAvailable;
        if (_ownsExecutor)
            _executor.Dispose();
    }

    internal Task Submit(BalancedTask task, LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Launch, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.MemoryBytes, nameof(request));
        long capacity = Capacity;
        if (request.MemoryBytes > capacity)
        {
            var s = _pool?.Statistics;
            throw new PoolCapacityExceededException(request.MemoryBytes, s?.InUseBytes + s?.ReservedBytes ?? _ownReserved, s?.CachedBytes ?? 0, capacity,
                $"balancer task '{task.Name}' (a launch can never need more than the capacity C)");
        }
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);

        var submission = new Submission(this, task, request, cancellationToken);
        List<ScheduledLaunch> started;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed || task.HasLeft, task);
            submission.SubmittedAt = Clock.Now;
            submission.EstimateSeconds = EstimateSeconds(request);
            if (task.Queue.Count == 0 && task.Running == 0 && !_backlogged.Contains(task))
                task.VirtualTime = Math.Max(task.VirtualTime, _systemVirtualTime); // no credit for idle time
            _backlogged.Remove(task);
            submission.Node = task.Queue.AddLast(submission);
            task.QueuedMemory += request.MemoryBytes;
            task.Submitted++;
            _backlogged.Add(task);
            started = DispatchLocked();
        }
        if (cancellationToken.CanBeCanceled)
        {
            submission.Registration = cancellationToken.Register(static s => ((Submission)s!).Balancer.Cancel((Submission)s), submission);
            if (submission.Completion.Task.IsCompleted)
                submission.Registration.Dispose(); // another thread already ran it to the end
        }
        StartAll(started);
        return submission.Completion.Task;
    }

    internal void SetWeight(BalancedTask task, double weight)
    {
        BalancerMath.CheckWeight(weight, nameof(weight));
        lock (_lock)
            task.Weight = weight; // future charges use it; V_i keeps the service already received
    }

    internal void SetDemand(BalancedTask task, long? demand)
    {
        if (demand < 0)
            throw new ArgumentOutOfRangeException(nameof(demand), demand, "A memory demand must be ≥ 0.");
        lock (_lock)
            task.DeclaredDemand = demand;
    }

    internal T Read<T>(BalancedTask task, Func<BalancedTask, T> read)
    {
        lock (_lock)
            return read(task);
    }

    internal TaskSnapshot SnapshotOf(BalancedTask task)
    {
        lock (_lock)
            return task.SnapshotLocked(Clock.Now, _tasks.Sum(t => t.Weight), _tasks.Sum(t => t.ServiceSeconds));
    }

    internal void Leave(BalancedTask task)
    {
        List<Submission> cancelled = [];
        List<ScheduledLaunch> started;
        lock (_lock)
        {
            if (task.HasLeft)
                return;
            task.HasLeft = true;
            _backlogged.Remove(task);
            foreach (var s in task.Queue)
            {
                s.State = SubmissionState.Cancelled;
                cancelled.Add(s);
            }
            task.Queue.Clear();
            task.QueuedMemory = 0;
            task.Cancelled += cancelled.Count;
            _tasks.Remove(task);
            started = DispatchLocked();
        }
        foreach (var s in cancelled)
        {
            s.Registration.Dispose();
            s.Completion.TrySetCanceled(); // the task left before this launch started
        }
        StartAll(started);
    }

    internal void Cancel(Submission submission)
    {
        List<ScheduledLaunch> started;
        lock (_lock)
        {
            if (submission.State != SubmissionState.Queued)
                return; // running launches see the token through their context; finished ones are done
            var task = submission.Task;
            _backlogged.Remove(task);
            task.Queue.Remove(submission.Node!);
            task.QueuedMemory -= submission.Request.MemoryBytes;
            task.Cancelled++;
            submission.State = SubmissionState.Cancelled;
            if (task.Queue.Count > 0)
                _backlogged.Add(task);
            started = DispatchLocked(); // a cancelled blocked head may have been holding others back
        }
        submission.Completion.TrySetCanceled(submission.CancellationToken);
        StartAll(started);
    }

    internal void Complete(Submission submission, TimeSpan duration, Exception? error)
    {
        List<ScheduledLaunch> started;
        var task = submission.Task;
        double seconds = Math.Max(0, duration.TotalSeconds);
        lock (_lock)
        {
            _freeSlots++;
            ReleaseMemory(submission);
            task.Running--;
            task.RunningMemory -= submission.Request.MemoryBytes;
            bool queued = _backlogged.Remove(task);
            task.VirtualTime += (seconds - submission.EstimateSeconds) / submission.ChargedWeight;
            if (queued)
                _backlogged.Add(task);
            task.ServiceSeconds += seconds;
            task.Flops += submission.Request.Cost.Flops;
            if (error is null)
                task.Completed++;
            else if (error is OperationCanceledException)
                task.Cancelled++;
            else
                task.Failed++;
            task.LastCompletion = Clock.Now;
            if (submission.Request.Estimate is null && submission.Request.Cost.Flops > 0 && seconds > 0)
                _flopsPerSecond = 0.8 * _flopsPerSecond + 0.2 * (submission.Request.Cost.Flops / seconds);
            submission.State = SubmissionState.Done;
            started = DispatchLocked();
        }
        submission.Registration.Dispose();
        if (error is null)
            submission.Completion.TrySetResult();
        else if (error is OperationCanceledException oce)
            submission.Completion.TrySetCanceled(oce.CancellationToken.IsCancellationRequested ? oce.CancellationToken : submission.CancellationToken);
        else
            submission.Completion.TrySetException(error);
        StartAll(started);
    }

    private void OnMemoryAvailable(object? sender, EventArgs e)
    {
        List<ScheduledLaunch> started;
        lock (_lock)
        {
            if (_disposed)
                return;
            started = DispatchLocked();
        }
        StartAll(started);
    }

    private void StartAll(List<ScheduledLaunch> started)
    {
        foreach (var launch in started)
            _executor.Start(launch);
    }

    /// <summary>Admits launches while slots are free, in virtual-time order, while their memory fits.</summary>
    private List<ScheduledLaunch> DispatchLocked()
    {
        List<ScheduledLaunch> started = [];
        while (_freeSlots > 0 && _backlogged.Count > 0)
        {
            var fairest = _backlogged.Min!;
            _systemVirtualTime = Math.Max(_systemVirtualTime, fairest.VirtualTime);
            BalancedTask? chosen = null;
            long fairestNeed = fairest.Queue.First!.Value.Request.MemoryBytes;
            if (TryReserve(fairestNeed, 0, out var reservation))
                chosen = fairest; // the common case: the fairest launch fits, no enumeration
            else
            {
                // Backfill: a later task may run if it also leaves room for the blocked fairest launch (no starvation).
                foreach (var task in _backlogged)
                {
                    if (ReferenceEquals(task, fairest))
                        continue;
                    if (TryReserve(task.Queue.First!.Value.Request.MemoryBytes, fairestNeed, out reservation))
                    {
                        chosen = task;
                        break;
                    }
                }
            }
            if (chosen is null)
                break;

            var submission = chosen.Queue.First!.Value;
            _backlogged.Remove(chosen);
            chosen.Queue.RemoveFirst();
            chosen.QueuedMemory -= submission.Request.MemoryBytes;
            chosen.RunningMemory += submission.Request.MemoryBytes;
            chosen.Running++;
            submission.ChargedWeight = chosen.Weight;
            chosen.VirtualTime += submission.EstimateSeconds / chosen.Weight;
            if (chosen.Queue.Count > 0)
                _backlogged.Add(chosen);
            submission.State = SubmissionState.Running;
            submission.Reservation = reservation;
            var now = Clock.Now;
            chosen.RecordDelay((now - submission.SubmittedAt).TotalSeconds);
            _freeSlots--;
            started.Add(new ScheduledLaunch(submission, new LaunchContext(chosen, submission.CancellationToken, reservation)));
        }
        return started;
    }

    private bool TryReserve(long bytes, long earmarked, out MemoryReservation? reservation)
    {
        reservation = null;
        if (bytes == 0)
            return true;
        if (_pool is null)
        {
            if (_ownReserved + bytes + earmarked > _ownCapacity)
                return false;
            _ownReserved += bytes;
            return true;
        }
        if (earmarked > 0 && _pool.AvailableBytes < bytes + earmarked)
            return false;
        reservation = _pool.TryReserve(bytes);
        return reservation is not null;
    }

    private void ReleaseMemory(Submission submission)
    {
        if (submission.Reservation is { } reservation)
            _pool!.Release(reservation, notify: false); // we dispatch right after; no need to hear our own event
        else if (_pool is null)
            _ownReserved -= submission.Request.MemoryBytes;
        submission.Reservation = null;
    }

    private double EstimateSeconds(LaunchRequest request)
    {
        if (request.Estimate is { } estimate)
            return Math.Max(0, estimate.TotalSeconds);
        return request.Cost.Flops > 0 ? request.Cost.Flops / _flopsPerSecond : 1e-6;
    }

    internal enum SubmissionState
    {
        Queued,
        Running,
        Done,
        Cancelled,
    }

    internal sealed class Submission(Balancer balancer, BalancedTask task, LaunchRequest request, CancellationToken cancellationToken)
    {
        public Balancer Balancer { get; } = balancer;
        public BalancedTask Task { get; } = task;
        public LaunchRequest Request { get; } = request;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
        public LinkedListNode<Submission>? Node { get; set; }
        public SubmissionState State { get; set; }
        public TimeSpan SubmittedAt { get; set; }
        public double EstimateSeconds { get; set; }
        public double ChargedWeight { get; set; } = 1;
        public MemoryReservation? Reservation { get; set; }
    }

    private sealed class VirtualTimeOrder : IComparer<BalancedTask>
    {
        public static readonly VirtualTimeOrder Instance = new();

        public int Compare(BalancedTask? x, BalancedTask? y)
        {
            if (ReferenceEquals(x, y))
                return 0;
            int c = x!.VirtualTime.CompareTo(y!.VirtualTime);
            return c != 0 ? c : x.Id.CompareTo(y.Id);
        }
    }
}

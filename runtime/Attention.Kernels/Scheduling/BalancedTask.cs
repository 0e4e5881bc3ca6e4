namespace Attention.Kernels.Scheduling;

/// <summary>
/// A task registered with a <see cref="Balancer"/>: it submits kernel launches, and its share of device time tracks
/// α_i = w_i / Σ_j w_j while it has work queued. Dispose to leave (queued launches are cancelled).
/// </summary>
public sealed class BalancedTask : IDisposable
{
    private readonly double[] _delays;
    private long _delayCount;

    internal BalancedTask(Balancer balancer, int id, string name, double weight, long? demand, TimeSpan registeredAt, int delaySamples)
    {
        Balancer = balancer;
        Id = id;
        Name = name;
        Weight = weight;
        DeclaredDemand = demand;
        RegisteredAt = registeredAt;
        _delays = new double[delaySamples];
    }

    /// <summary>The balancer.</summary>
    public Balancer Balancer { get; }

    /// <summary>Registration order (ties in virtual time go to the lower id).</summary>
    public int Id { get; }

    /// <summary>Display name.</summary>
    public string Name { get; }

    /// <summary>w_i. Setting it takes effect for the next launches (service already received keeps its charge).</summary>
    public double Weight
    {
        get;
        internal set;
    }

    /// <summary>c_i as declared, or null when it follows the task's queued and running launches.</summary>
    public long? MemoryDemand
    {
        get => DeclaredDemand;
        set => Balancer.SetDemand(this, value);
    }

    /// <summary>Changes w_i at run time.</summary>
    public void SetImportance(Importance importance) => Balancer.SetWeight(this, importance.Weight);

    /// <summary>
    /// Queues a launch. The returned task completes when the kernel has run, faults with the kernel's exception
    /// (other submissions are unaffected), or is cancelled through <paramref name="cancellationToken"/> (a queued launch
    /// is dropped at once; a running one sees the token in its <see cref="LaunchContext"/>).
    /// </summary>
    /// <exception cref="Memory.PoolCapacityExceededException">The launch needs more memory than the capacity C: it could never run.</exception>
    /// <exception cref="ObjectDisposedException">The task has left.</exception>
    public Task SubmitAsync(LaunchRequest request, CancellationToken cancellationToken = default) =>
        Balancer.Submit(this, request, cancellationToken);

    /// <summary>Queues <paramref name="launch"/> with its cost and memory need (see <see cref="SubmitAsync(LaunchRequest, CancellationToken)"/>).</summary>
    public Task SubmitAsync(Action<LaunchContext> launch, KernelCost cost, long memoryBytes = 0, CancellationToken cancellationToken = default) =>
        Balancer.Submit(this, new LaunchRequest(launch, cost) { MemoryBytes = memoryBytes }, cancellationToken);

    /// <summary>Launches waiting to be dispatched (cheap; no snapshot).</summary>
    public int QueuedLaunches => Balancer.Read(this, static t => t.Queue.Count);

    /// <summary>Launches finished, successfully or not (cheap; no snapshot).</summary>
    public long FinishedLaunches => Balancer.Read(this, static t => t.Completed + t.Failed + t.Cancelled);

    /// <summary>This task's metrics now.</summary>
    public TaskSnapshot Snapshot() => Balancer.SnapshotOf(this);

    /// <summary>Leaves the balancer: queued launches are cancelled, running ones finish.</summary>
    public void Dispose() => Balancer.Leave(this);

    /// <inheritdoc />
    public override string ToString() => $"{Name} (w = {Weight:G4})";

    // State below is guarded by the balancer's lock.
    internal LinkedList<Balancer.Submission> Queue { get; } = new();
    internal double VirtualTime { get; set; }
    internal long? DeclaredDemand { get; set; }
    internal long QueuedMemory { get; set; }
    internal long RunningMemory { get; set; }
    internal int Running { get; set; }
    internal bool HasLeft { get; set; }
    internal long Submitted { get; set; }
    internal long Completed { get; set; }
    internal long Failed { get; set; }
    internal long Cancelled { get; set; }
    internal double ServiceSeconds { get; set; }
    internal double Flops { get; set; }
    internal TimeSpan RegisteredAt { get; }
    internal TimeSpan LastCompletion { get; set; }

    internal void RecordDelay(double seconds) => _delays[_delayCount++ % _delays.Length] = seconds;

    internal TaskSnapshot SnapshotLocked(TimeSpan now, double totalWeight, double totalService)
    {
        int n = (int)Math.Min(_delayCount, _delays.Length);
        var delays = _delays.AsSpan(0, n).ToArray();
        Array.Sort(delays);
        double elapsed = Math.Max((now - RegisteredAt).TotalSeconds, 1e-12);
        long demand = DeclaredDemand ?? QueuedMemory + RunningMemory;
        return new TaskSnapshot(Id, Name, Weight, totalWeight > 0 ? Weight / totalWeight : 0,
            Queue.Count, Running, Submitted, Completed, Failed, Cancelled,
            ServiceSeconds, totalService > 0 ? ServiceSeconds / totalService : 0,
            TimeSpan.FromSeconds(Percentile(delays, 0.50)), TimeSpan.FromSeconds(Percentile(delays, 0.99)),
            (Completed + Failed) / elapsed, Flops / elapsed / 1e9, Flops, demand, RunningMemory);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>One task's metrics at an instant.</summary>
/// <param name="Id">Registration order.</param>
/// <param name="Name">Display name.</param>
/// <param name="Weight">w_i.</param>
/// <param name="Alpha">α_i = w_i / Σ_j w_j over the registered tasks.</param>
/// <param name="Queued">Launches waiting.</param>
/// <param name="Running">Launches on the device.</param>
/// <param name="Submitted">Launches ever submitted.</param>
/// <param name="Completed">Launches that ran to completion.</param>
/// <param name="Failed">Launches whose kernel threw.</param>
/// <param name="Cancelled">Launches cancelled (queued or running) or dropped when the task left.</param>
/// <param name="ServiceSeconds">Device time received (measured durations of finished launches).</param>
/// <param name="AchievedShare">ServiceSeconds / Σ ServiceSeconds over the registered tasks (since registration; compare two snapshots for a window).</param>
/// <param name="QueueDelayP50">Median time from submission to dispatch (recent samples).</param>
/// <param name="QueueDelayP99">99th percentile of the same.</param>
/// <param name="LaunchesPerSecond">Finished launches per second since registration.</param>
/// <param name="GflopsPerSecond">FLOPs of finished launches (cost model) per second since registration, in GFLOP/s.</param>
/// <param name="Flops">FLOPs of finished launches (cost model), for rates over a window between two snapshots.</param>
/// <param name="DemandBytes">c_i: declared demand, or the memory of queued + running launches.</param>
/// <param name="UseBytes">c'_i: memory reserved by running launches.</param>
public sealed record TaskSnapshot(
    int Id, string Name, double Weight, double Alpha,
    int Queued, int Running, long Submitted, long Completed, long Failed, long Cancelled,
    double ServiceSeconds, double AchievedShare,
    TimeSpan QueueDelayP50, TimeSpan QueueDelayP99,
    double LaunchesPerSecond, double GflopsPerSecond, double Flops,
    long DemandBytes, long UseBytes);

/// <summary>The balancer at an instant: capacity figures (DESIGN.md) and every task.</summary>
/// <param name="Time">Clock time of the snapshot.</param>
/// <param name="Capacity">C.</param>
/// <param name="Available">C_avail = C − Σ c'_i.</param>
/// <param name="Remaining">C_remain = C − Σ min(c_i, c'_i).</param>
/// <param name="SystemVirtualTime">V_sys, the virtual time a returning task starts from.</param>
/// <param name="FlopsPerSecond">The measured FLOP rate used to estimate launch durations.</param>
/// <param name="Tasks">Registered tasks, in registration order.</param>
public sealed record BalancerSnapshot(
    TimeSpan Time, long Capacity, long Available, long Remaining, double SystemVirtualTime, double FlopsPerSecond,
    IReadOnlyList<TaskSnapshot> Tasks);

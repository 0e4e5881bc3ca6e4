using Attention.Kernels.Memory;

namespace Attention.Kernels.Scheduling;

/// <summary>
/// A deterministic simulation of a balanced device: a <see cref="VirtualClock"/>, a <see cref="SimulatedExecutor"/>
/// with <paramref name="slots"/> slots and a <see cref="Balancer"/> on them. Fake kernels declare their duration in
/// <see cref="LaunchRequest.Estimate"/> (or <paramref name="duration"/> decides it); <see cref="Run"/> plays the events.
/// No wall clock, no threads: the same inputs give the same schedule.
/// </summary>
public sealed class BalancerSimulation(int slots = 1, MemoryPool? pool = null, long capacity = long.MaxValue,
    Func<ScheduledLaunch, TimeSpan>? duration = null) : IDisposable
{
    /// <summary>The virtual clock.</summary>
    public VirtualClock Clock { get; } = new();

    /// <summary>The simulated device.</summary>
    public SimulatedExecutor Executor => _executor ??= new SimulatedExecutor(Clock, slots, duration);

    /// <summary>The balancer under test.</summary>
    public Balancer Balancer => _balancer ??= new Balancer(new BalancerOptions { Executor = Executor, Pool = pool, Capacity = capacity });

    private SimulatedExecutor? _executor;
    private Balancer? _balancer;

    /// <summary>Plays events until nothing is in flight or <paramref name="stop"/> holds; returns the events played.</summary>
    public long Run(Func<bool>? stop = null, long maxEvents = long.MaxValue) => Executor.Run(stop, maxEvents);

    /// <inheritdoc />
    public void Dispose()
    {
        _balancer?.Dispose();
        _executor?.Dispose();
    }
}

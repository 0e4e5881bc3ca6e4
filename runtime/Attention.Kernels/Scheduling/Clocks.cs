using System.Diagnostics;

namespace Attention.Kernels.Scheduling;

/// <summary>The balancer's time source: the wall clock on a real device, a <see cref="VirtualClock"/> in simulations and tests.</summary>
public interface IClock
{
    /// <summary>Time since an arbitrary fixed origin; never decreases.</summary>
    TimeSpan Now { get; }
}

/// <summary>Monotonic wall-clock time (<see cref="Stopwatch"/>), measured from the clock's creation.</summary>
public sealed class SystemClock : IClock
{
    private readonly long _origin = Stopwatch.GetTimestamp();

    /// <inheritdoc />
    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);
}

/// <summary>A clock that moves only when told to: simulations advance it to the next event, so runs are exactly repeatable.</summary>
public sealed class VirtualClock : IClock
{
    private long _ticks;

    /// <inheritdoc />
    public TimeSpan Now => new(Interlocked.Read(ref _ticks));

    /// <summary>Moves the clock to <paramref name="time"/>, which must not be in the past.</summary>
    public void AdvanceTo(TimeSpan time)
    {
        if (time.Ticks < Interlocked.Read(ref _ticks))
            throw new ArgumentOutOfRangeException(nameof(time), time, $"The clock is at {Now} and cannot go back.");
        Interlocked.Exchange(ref _ticks, time.Ticks);
    }

    /// <summary>Moves the clock forward by <paramref name="delta"/>.</summary>
    public void Advance(TimeSpan delta) => AdvanceTo(Now + delta);
}

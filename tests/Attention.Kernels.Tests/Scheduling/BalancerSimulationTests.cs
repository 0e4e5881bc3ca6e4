using Attention.Kernels.Memory;
using Attention.Kernels.Scheduling;
using Xunit;

namespace Attention.Kernels.Tests.Scheduling;

/// <summary>
/// The balancer on a virtual clock with fake kernels of known cost: no wall clock, no sleeps, exactly repeatable.
/// Fake kernels carry their true duration in <see cref="LaunchRequest.Estimate"/>; a deterministic noise makes the
/// measured duration differ from the estimate so the completion-time correction is exercised too.
/// </summary>
public sealed class BalancerSimulationTests
{
    private const double Tolerance = 0.02; // ±2 percentage points

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>A fake kernel of <paramref name="ms"/> milliseconds and memory need.</summary>
    private static LaunchRequest Fake(double ms, long memory = 0, Action<LaunchContext>? body = null) =>
        new(body ?? (_ => { }), new KernelCost(ms * 1e6, 0, 0)) { Estimate = Ms(ms), MemoryBytes = memory };

    /// <summary>Actual duration = estimate × a factor in [0.7, 1.3] drawn from the launch's identity (deterministic).</summary>
    private static Func<ScheduledLaunch, TimeSpan> Noisy(int seed)
    {
        var random = new Random(seed);
        return launch => launch.Request.Estimate!.Value * (0.7 + 0.6 * random.NextDouble());
    }

    private static Dictionary<string, double> ShareDelta(BalancerSnapshot from, BalancerSnapshot to, params string[] names)
    {
        var delta = names.ToDictionary(n => n, n => to.Tasks.Single(t => t.Name == n).ServiceSeconds - (from.Tasks.SingleOrDefault(t => t.Name == n)?.ServiceSeconds ?? 0));
        double total = delta.Values.Sum();
        return delta.ToDictionary(p => p.Key, p => p.Value / total);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Three_tasks_hold_their_shares_then_split_a_departed_share_in_proportion(int slots)
    {
        using var sim = new BalancerSimulation(slots, duration: Noisy(seed: 42));
        var balancer = sim.Balancer;
        // Different kernel sizes per task: shares are of device time, not of launch counts.
        (string Name, double Weight, double Ms)[] spec = [("big", 0.5, 2.0), ("mid", 0.3, 0.5), ("small", 0.2, 1.0)];
        var tasks = spec.Select(s => balancer.Register(s.Name, s.Weight)).ToArray();
        var submissions = new List<Task>();
        for (int i = 0; i < 10_000; i++)
            for (int t = 0; t < tasks.Length; t++)
                submissions.Add(tasks[t].SubmitAsync(Fake(spec[t].Ms)));

        // Phase 1: all three backlogged until the first one runs out of work.
        var start = balancer.Snapshot();
        sim.Run(stop: () => tasks.Any(t => t.QueuedLaunches == 0));
        var firstDrained = balancer.Snapshot();
        var phase1 = ShareDelta(start, firstDrained, "big", "mid", "small");
        for (int t = 0; t < spec.Length; t++)
            Assert.InRange(phase1[spec[t].Name], spec[t].Weight - Tolerance, spec[t].Weight + Tolerance);

        // Phase 2: the departed task's share goes to the others in proportion to their weights.
        var gone = firstDrained.Tasks.First(t => t.Queued == 0).Name;
        var rest = spec.Where(s => s.Name != gone).ToArray();
        sim.Run(stop: () => tasks.Count(t => t.QueuedLaunches == 0) >= 2);
        var phase2 = ShareDelta(firstDrained, balancer.Snapshot(), rest.Select(r => r.Name).ToArray());
        double restWeight = rest.Sum(r => r.Weight);
        foreach (var r in rest)
            Assert.InRange(phase2[r.Name], r.Weight / restWeight - Tolerance, r.Weight / restWeight + Tolerance);

        sim.Run();
        Assert.All(submissions, s => Assert.True(s.IsCompletedSuccessfully));
        Assert.All(balancer.Snapshot().Tasks, t => Assert.Equal(10_000, t.Completed));
    }

    [Fact]
    public void A_task_of_weight_one_percent_still_progresses()
    {
        using var sim = new BalancerSimulation(duration: Noisy(7));
        var heavy = new[] { sim.Balancer.Register("a", 0.5), sim.Balancer.Register("b", 0.3), sim.Balancer.Register("c", 0.2) };
        var tiny = sim.Balancer.Register("tiny", 0.01);
        for (int i = 0; i < 5_000; i++)
        {
            foreach (var t in heavy)
                _ = t.SubmitAsync(Fake(1));
            _ = tiny.SubmitAsync(Fake(1));
        }
        sim.Run(maxEvents: 10_000);
        var s = tiny.Snapshot();
        double expected = 0.01 / 1.01 * 10_000; // ≈ 99 launches
        Assert.InRange(s.Completed, (long)(expected * 0.8), (long)(expected * 1.2));
        Assert.InRange(s.AchievedShare, 0.01 / 1.01 - 0.005, 0.01 / 1.01 + 0.005);
        // It is never starved for long: a launch waits about 1/α_i launch times at most (plus the queue ahead of it in its own task is not counted here).
        Assert.True(s.QueueDelayP50 > TimeSpan.Zero);
        sim.Balancer.Dispose();
    }

    [Fact]
    public void Weights_changed_at_run_time_take_effect()
    {
        using var sim = new BalancerSimulation();
        var a = sim.Balancer.Register("a", 1);
        var b = sim.Balancer.Register("b", 1);
        for (int i = 0; i < 4_000; i++)
        {
            _ = a.SubmitAsync(Fake(1));
            _ = b.SubmitAsync(Fake(1));
        }
        sim.Run(maxEvents: 1_000);
        var half = sim.Balancer.Snapshot();
        Assert.InRange(ShareDelta(new BalancerSnapshot(default, 0, 0, 0, 0, 0, []), half, "a", "b")["a"], 0.48, 0.52);
        a.SetImportance(Importance.FromWeight(3));
        Assert.Equal(0.75, a.Snapshot().Alpha, 12);
        sim.Run(maxEvents: 2_000);
        Assert.InRange(ShareDelta(half, sim.Balancer.Snapshot(), "a", "b")["a"], 0.73, 0.77);
    }

    [Fact]
    public void A_task_joining_late_gets_its_share_but_no_credit_for_the_past()
    {
        using var sim = new BalancerSimulation();
        var a = sim.Balancer.Register("a", 1);
        for (int i = 0; i < 3_000; i++)
            _ = a.SubmitAsync(Fake(1));
        sim.Run(maxEvents: 1_000);
        var b = sim.Balancer.Register("b", 1);
        for (int i = 0; i < 3_000; i++)
            _ = b.SubmitAsync(Fake(1));
        var joined = sim.Balancer.Snapshot();
        sim.Run(maxEvents: 1_000);
        // Equal weights from the moment b joined: b does not monopolise the device to "catch up".
        Assert.InRange(ShareDelta(joined, sim.Balancer.Snapshot(), "a", "b")["b"], 0.48, 0.52);

        // Leaving cancels what is queued; the other task then gets the whole device.
        var queued = b.Snapshot().Queued;
        var last = b.SubmitAsync(Fake(1));
        b.Dispose();
        Assert.True(last.IsCanceled || last.IsFaulted);
        Assert.Throws<ObjectDisposedException>(() => { _ = b.SubmitAsync(Fake(1)); }); // thrown synchronously
        Assert.DoesNotContain(sim.Balancer.Snapshot().Tasks, t => t.Name == "b");
        Assert.True(queued > 0);
        sim.Run();
        Assert.Equal(3_000, a.Snapshot().Completed);
    }

    [Fact]
    public void Admission_waits_for_memory_and_then_proceeds()
    {
        var pool = new MemoryPool(Device.Cpu, new MemoryPoolOptions { Capacity = 4096 });
        using var sim = new BalancerSimulation(slots: 2, pool: pool);
        var a = sim.Balancer.Register("a", 1);
        var b = sim.Balancer.Register("b", 1);

        var first = a.SubmitAsync(Fake(10, memory: 3000));
        var second = b.SubmitAsync(Fake(1, memory: 2000)); // a slot is free, the memory is not
        var s = sim.Balancer.Snapshot();
        Assert.Equal((1, 1), (s.Tasks[0].Running, s.Tasks[1].Queued));
        Assert.Equal((2000L, 0L), (s.Tasks[1].DemandBytes, s.Tasks[1].UseBytes));
        sim.Run(maxEvents: 1);
        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal(1, b.Snapshot().Running); // admitted as soon as a's memory came back
        sim.Run();
        Assert.True(second.IsCompletedSuccessfully);
        Assert.InRange(b.Snapshot().QueueDelayP50.TotalMilliseconds, 9.999, 10.001);

        // Memory held outside the balancer counts too: admission resumes when it is returned.
        var held = pool.Rent(3000);
        var third = b.SubmitAsync(Fake(1, memory: 2000));
        Assert.Equal(1, b.Snapshot().Queued);
        held.Dispose(); // MemoryAvailable → dispatch
        Assert.Equal(1, b.Snapshot().Running);
        sim.Run();
        Assert.True(third.IsCompletedSuccessfully);

        // More than C can never run: it fails at once.
        var ex = Assert.Throws<PoolCapacityExceededException>(() => { _ = a.SubmitAsync(Fake(1, memory: 5000)); }); // at once, synchronously
        Assert.Contains("capacity 4 KiB", ex.Message);
        Assert.Equal(0, pool.Statistics.ReservedBytes);
        pool.Dispose();
    }

    [Fact]
    public void A_blocked_large_launch_is_not_starved_by_smaller_ones()
    {
        using var sim = new BalancerSimulation(slots: 4, capacity: 100);
        var small = sim.Balancer.Register("small", 1);
        var large = sim.Balancer.Register("large", 1);
        for (int i = 0; i < 200; i++)
            _ = small.SubmitAsync(Fake(1, memory: 30));
        var big = large.SubmitAsync(Fake(1, memory: 90));
        sim.Run(stop: () => big.IsCompleted);
        Assert.True(big.IsCompletedSuccessfully);
        Assert.True(small.Snapshot().Completed < 20, $"the large launch waited for {small.Snapshot().Completed} small ones");
        sim.Run();
    }

    [Fact]
    public void Cancellation_drops_queued_launches_and_releases_their_memory()
    {
        var pool = new MemoryPool(Device.Cpu, new MemoryPoolOptions { Capacity = 4096 });
        using var sim = new BalancerSimulation(slots: 2, pool: pool);
        var a = sim.Balancer.Register("a", 1);
        var b = sim.Balancer.Register("b", 1);
        var c = sim.Balancer.Register("c", 1);
        var running = a.SubmitAsync(Fake(10, memory: 2000));
        using var cts = new CancellationTokenSource();
        var blocked = b.SubmitAsync(Fake(1, memory: 3000), cts.Token);    // waits for memory, earmarks it
        var behind = c.SubmitAsync(Fake(1, memory: 1500));                // would fit, but must not take b's room
        Assert.Equal((1, 1), (b.Snapshot().Queued, c.Snapshot().Queued));
        Assert.Equal(3000, b.Snapshot().DemandBytes);

        cts.Cancel();
        Assert.True(blocked.IsCanceled);
        Assert.Equal((0L, 0, 1L), (b.Snapshot().DemandBytes, b.Snapshot().Queued, b.Snapshot().Cancelled));
        Assert.Equal(1, c.Snapshot().Running); // the cancelled launch's room went to the next one at once
        sim.Run();
        Assert.True(running.IsCompletedSuccessfully && behind.IsCompletedSuccessfully);
        Assert.Equal(0, pool.Statistics.ReservedBytes);
        Assert.True(b.SubmitAsync(Fake(1), new CancellationToken(canceled: true)).IsCanceled);

        // A running launch sees the token; if it stops, its submission is cancelled and its memory is released.
        using var cts2 = new CancellationTokenSource();
        var cooperative = a.SubmitAsync(Fake(5, memory: 1000, body: ctx =>
        {
            cts2.Cancel();
            ctx.CancellationToken.ThrowIfCancellationRequested();
        }), cts2.Token);
        sim.Run();
        Assert.True(cooperative.IsCanceled);
        Assert.Equal(0, pool.Statistics.ReservedBytes);
        pool.Dispose();
    }

    [Fact]
    public void A_faulting_launch_fails_only_its_own_submission()
    {
        using var sim = new BalancerSimulation(slots: 2);
        var good = sim.Balancer.Register("good", 1);
        var bad = sim.Balancer.Register("bad", 1);
        var goods = Enumerable.Range(0, 20).Select(_ => good.SubmitAsync(Fake(1))).ToList();
        var bads = Enumerable.Range(0, 20).Select(i => bad.SubmitAsync(Fake(1, body: _ =>
        {
            if (i == 7)
                throw new InvalidOperationException("kernel 7 failed");
        }))).ToList();
        sim.Run();
        Assert.All(goods, t => Assert.True(t.IsCompletedSuccessfully));
        for (int i = 0; i < bads.Count; i++)
        {
            if (i == 7)
                Assert.Equal("kernel 7 failed", Assert.IsType<InvalidOperationException>(bads[i].Exception!.InnerException).Message);
            else
                Assert.True(bads[i].IsCompletedSuccessfully);
        }
        Assert.Equal((19L, 1L), (bad.Snapshot().Completed, bad.Snapshot().Failed));
    }

    [Fact]
    public void A_thousand_tasks_of_a_hundred_launches_finish_work_conserving_with_nothing_leaked()
    {
        var pool = new MemoryPool(Device.Cpu, new MemoryPoolOptions { Capacity = 1 << 20 });
        using var sim = new BalancerSimulation(slots: 4, pool: pool);
        var random = new Random(1234);
        var tasks = Enumerable.Range(0, 1000).Select(i => sim.Balancer.Register($"t{i}", 0.1 + random.NextDouble())).ToArray();
        var submissions = new List<Task>(100_000);
        double totalMs = 0, maxMs = 0;
        for (int j = 0; j < 100; j++)
        {
            foreach (var t in tasks)
            {
                double ms = 0.1 + random.Next(10) * 0.1;
                totalMs += ms;
                maxMs = Math.Max(maxMs, ms);
                submissions.Add(t.SubmitAsync(Fake(ms, memory: random.Next(1, 64) * 1024)));
            }
        }
        long events = sim.Run();
        Assert.Equal(100_000, events);
        Assert.All(submissions, s => Assert.True(s.IsCompletedSuccessfully));
        // Work-conserving: the slots never idle while work waits (bounded by total/slots + one launch).
        Assert.True(sim.Clock.Now.TotalMilliseconds <= totalMs / 4 + maxMs + 1e-6, $"{sim.Clock.Now.TotalMilliseconds} ms for {totalMs / 4} ms of work per slot");
        var snapshot = sim.Balancer.Snapshot();
        Assert.All(snapshot.Tasks, t => Assert.Equal((100L, 0, 0, 0L), (t.Completed, t.Queued, t.Running, t.UseBytes)));
        Assert.Equal(snapshot.Capacity, snapshot.Available);
        Assert.Equal(0, sim.Executor.InFlight);
        Assert.Equal(0, pool.Statistics.ReservedBytes);
        pool.Dispose();
    }

    [Fact]
    public void The_same_inputs_give_the_same_schedule()
    {
        static string Run()
        {
            using var sim = new BalancerSimulation(slots: 3, capacity: 10_000, duration: Noisy(3));
            var random = new Random(5);
            var tasks = Enumerable.Range(0, 5).Select(i => sim.Balancer.Register($"t{i}", 1 + i)).ToArray();
            for (int i = 0; i < 2_000; i++)
                _ = tasks[random.Next(tasks.Length)].SubmitAsync(Fake(0.1 + random.NextDouble(), memory: random.Next(4000)));
            sim.Run(maxEvents: 1_500);
            return string.Join("|", sim.Balancer.Snapshot().Tasks.Select(t => $"{t.Completed}:{t.ServiceSeconds:R}:{t.QueueDelayP99.Ticks}"));
        }
        Assert.Equal(Run(), Run());
    }
}

using System.Runtime.CompilerServices;

namespace Attention.Kernels.Cpu;

/// <summary>One parallel loop body: a struct, so a launch allocates nothing and the JIT specializes the loop.</summary>
public interface ICpuParallelBody
{
    /// <summary>Runs work item <paramref name="index"/> on worker <paramref name="worker"/> (0 ≤ worker &lt; <see cref="CpuParallel.WorkerCount"/>).</summary>
    void Invoke(int index, int worker);
}

/// <summary>
/// A fixed set of persistent worker threads (one per core, the caller included) that run a struct loop body.
/// Unlike <c>Parallel.For</c> a launch allocates nothing, and the worker index lets kernels keep per-core scratch.
/// Launches are serialized: each one already uses every core.
/// </summary>
/// <remarks>
/// A model's forward pass is dozens of launches a few hundred microseconds apart. After a launch each worker spins for
/// <see cref="SpinMicroseconds"/> watching for the next one before it sleeps, and the caller spins for its helpers
/// before it blocks: a wake-up through the kernel costs tens of microseconds per launch (≈ 3 ms per MiniLM forward).
/// </remarks>
public static unsafe class CpuParallel
{
    private static readonly object s_launchLock = new();
    private static readonly SemaphoreSlim[] s_wake;
    private static readonly ManualResetEventSlim s_done = new(false);

    [ThreadStatic] private static bool t_insideLaunch;
    [ThreadStatic] private static int t_worker;

    private static delegate*<void*, int, int, void> s_invoke;
    private static void* s_body;
    private static int s_count;
    private static int s_next;
    private static int s_grain;
    private static int s_pending;
    private static int s_generation;
    private static readonly int[] s_assigned;
    private static readonly int[] s_sleeping;
    private static Exception? s_error;

    /// <summary>How long an idle worker (and a caller waiting for its helpers) spins before blocking.</summary>
    public const int SpinMicroseconds = 500;

    private static readonly long s_spinTicks = Math.Max(1, System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000);

    static CpuParallel()
    {
        WorkerCount = Math.Max(1, Environment.ProcessorCount);
        s_wake = new SemaphoreSlim[WorkerCount];
        s_sleeping = new int[WorkerCount];
        s_assigned = new int[WorkerCount];
        for (int worker = 1; worker < WorkerCount; worker++)
        {
            s_wake[worker] = new SemaphoreSlim(0);
            int id = worker;
            new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"Attention.Kernels CPU worker {id}" }.Start();
        }
    }

    /// <summary>Number of workers, the calling thread included.</summary>
    public static int WorkerCount { get; }

    /// <summary>Runs <c>body.Invoke(i, worker)</c> for every i in [0, <paramref name="count"/>) on all cores; returns when all are done.</summary>
    /// <remarks>The first exception thrown by any item is rethrown here after the others finish.</remarks>
    public static void For<TBody>(int count, ref TBody body) where TBody : struct, ICpuParallelBody => For(count, ref body, grain: 1);

    /// <summary>
    /// <see cref="For{TBody}(int, ref TBody)"/> handing out runs of <paramref name="grain"/> consecutive items at a time:
    /// a worker then runs neighbouring items itself (a kernel's tiles of one head keep that head's data in its own L2).
    /// </summary>
    public static void For<TBody>(int count, ref TBody body, int grain) where TBody : struct, ICpuParallelBody
    {
        if (count <= 0)
            return;
        if (t_insideLaunch)
        {
            // Nested launches (a kernel calling a kernel) run inline on the calling worker: no handoff, no deadlock.
            for (int i = 0; i < count; i++)
                body.Invoke(i, t_worker);
            return;
        }

        lock (s_launchLock)
        {
            if (WorkerCount == 1 || count == 1)
            {
                // Tiny launches run inline, but still under the lock: worker 0's scratch belongs to one launch at a time.
                t_insideLaunch = true;
                try
                {
                    for (int i = 0; i < count; i++)
                        body.Invoke(i, 0);
                }
                finally
                {
                    t_insideLaunch = false;
                }
                return;
            }
            s_invoke = &Invoke<TBody>;
            s_body = Unsafe.AsPointer(ref body);
            s_count = count;
            s_grain = Math.Max(1, grain);
            s_next = 0;
            s_error = null;
            int helpers = (int)Math.Min(WorkerCount, ((long)count + s_grain - 1) / s_grain) - 1;
            s_pending = helpers;
            s_done.Reset();
            int generation = ++s_generation;
            for (int worker = 1; worker <= helpers; worker++)
            {
                // Publishes the launch to the helper (a release after the state above). A worker that announced its sleep
                // gets a wake-up; one still spinning sees its new assignment.
                Volatile.Write(ref s_assigned[worker], generation);
                if (Interlocked.Exchange(ref s_sleeping[worker], 0) == 1)
                    s_wake[worker].Release();
            }

            t_insideLaunch = true;
            try
            {
                Drain(worker: 0);
            }
            finally
            {
                t_insideLaunch = false;
            }
            if (helpers > 0 && !SpinUntilDone())
            {
                // s_pending is the truth; the event only lets the caller sleep. A helper of the previous launch may set it
                // late (after that launch's caller saw s_pending reach 0 while spinning), so a wake-up is checked.
                while (Volatile.Read(ref s_pending) != 0)
                {
                    s_done.Wait();
                    s_done.Reset();
                }
            }
            s_body = null;
            if (s_error is { } error)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Invoke<TBody>(void* body, int index, int worker) where TBody : struct, ICpuParallelBody =>
        Unsafe.AsRef<TBody>(body).Invoke(index, worker);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Drain(int worker)
    {
        int first, grain = s_grain;
        while ((first = Interlocked.Add(ref s_next, grain) - grain) < s_count)
        {
            try
            {
                for (int index = first, end = Math.Min(s_count, first + grain); index < end; index++)
                    s_invoke(s_body, index, worker);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref s_error, ex, null);
                Volatile.Write(ref s_next, s_count); // stop handing out work after a failure
            }
        }
    }

    /// <summary>Spins up to <see cref="SpinMicroseconds"/> until the launch's helpers are done; false if they were not.</summary>
    private static bool SpinUntilDone()
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
        while (Volatile.Read(ref s_pending) != 0)
        {
            for (int i = 0; i < 64 && Volatile.Read(ref s_pending) != 0; i++)
                Thread.SpinWait(4);
            if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
                return Volatile.Read(ref s_pending) == 0;
        }
        return true;
    }

    /// <summary>Spins up to <see cref="SpinMicroseconds"/> until <paramref name="worker"/> is assigned a launch other than <paramref name="seen"/>.</summary>
    private static bool SpinUntilAssigned(int worker, int seen)
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
        while (Volatile.Read(ref s_assigned[worker]) == seen)
        {
            for (int i = 0; i < 64 && Volatile.Read(ref s_assigned[worker]) == seen; i++)
                Thread.SpinWait(4);
            if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
                return Volatile.Read(ref s_assigned[worker]) != seen;
        }
        return true;
    }

    private static void WorkerLoop(int worker)
    {
        t_insideLaunch = true;
        t_worker = worker;
        int seen = 0;
        while (true)
        {
            WaitForLaunch(worker, seen);
            seen = Volatile.Read(ref s_assigned[worker]);
            Drain(worker);
            if (Interlocked.Decrement(ref s_pending) == 0)
                s_done.Set();
        }
    }

    /// <summary>
    /// Returns once <paramref name="worker"/> is assigned a launch newer than <paramref name="seen"/>: spinning first, then
    /// asleep on its semaphore. The sleep is announced in <c>s_sleeping</c>; whoever resets that flag (the launcher, or
    /// the worker when a launch arrived while it announced) decides whether a wake-up was sent, so no release is lost or
    /// left over.
    /// </summary>
    private static void WaitForLaunch(int worker, int seen)
    {
        if (SpinUntilAssigned(worker, seen))
            return;
        Interlocked.Exchange(ref s_sleeping[worker], 1); // a full fence before the assignment is read again
        if (Volatile.Read(ref s_assigned[worker]) != seen)
        {
            if (Interlocked.Exchange(ref s_sleeping[worker], 0) == 0)
                s_wake[worker].Wait(); // the launcher already cleared the flag and released: consume it
            return;
        }
        s_wake[worker].Wait();
    }
}

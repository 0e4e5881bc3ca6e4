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
    private static int s_pending;
    private static Exception? s_error;

    static CpuParallel()
    {
        WorkerCount = Math.Max(1, Environment.ProcessorCount);
        s_wake = new SemaphoreSlim[WorkerCount];
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
    public static void For<TBody>(int count, ref TBody body) where TBody : struct, ICpuParallelBody
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
            s_next = 0;
            s_error = null;
            int helpers = Math.Min(WorkerCount, count) - 1;
            s_pending = helpers;
            s_done.Reset();
            for (int worker = 1; worker <= helpers; worker++)
                s_wake[worker].Release();

            t_insideLaunch = true;
            try
            {
                Drain(worker: 0);
            }
            finally
            {
                t_insideLaunch = false;
            }
            if (helpers > 0)
                s_done.Wait();
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
        int index;
        while ((index = Interlocked.Increment(ref s_next) - 1) < s_count)
        {
            try
            {
                s_invoke(s_body, index, worker);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref s_error, ex, null);
                Volatile.Write(ref s_next, s_count); // stop handing out work after a failure
            }
        }
    }

    private static void WorkerLoop(int worker)
    {
        t_insideLaunch = true;
        t_worker = worker;
        while (true)
        {
            s_wake[worker].Wait();
            Drain(worker);
            if (Interlocked.Decrement(ref s_pending) == 0)
                s_done.Set();
        }
    }
}

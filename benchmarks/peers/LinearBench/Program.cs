// Times CpuOps.Linear: y = act(x·wᵀ + b) (+ residual). Usage: LinearBench M K N [seconds]
// Prints one line per epilogue variant (each also with the weight pre-packed once by CpuOps.PackLinearWeight): median ms over the timed calls and GFLOP/s (2·M·K·N per call).
using System.Diagnostics;
using System.Runtime.InteropServices;
using Attention.Kernels;
using Attention.Kernels.Cpu;

int m = args.Length > 0 ? int.Parse(args[0]) : 1024, k = args.Length > 1 ? int.Parse(args[1]) : 512, n = args.Length > 2 ? int.Parse(args[2]) : 2048;
double seconds = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 2;
unsafe
{
    float* Buffer(long count)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
        var random = new Random(42);
        for (long i = 0; i < count; i++)
            p[i] = (float)(random.NextDouble() * 2 - 1);
        return p;
    }
    float* x = Buffer((long)m * k), w = Buffer((long)n * k), b = Buffer(n), y = Buffer((long)m * n), r = Buffer((long)m * n);
    Console.WriteLine($"CpuOps.Linear M={m} K={k} N={n}, {CpuParallel.WorkerCount} workers, {(Simd.UseVector512 ? "AVX-512" : "256-bit")}");
    float* packed = (float*)NativeMemory.AlignedAlloc((nuint)(CpuOps.PackedLinearWeightFloats(k, n) * sizeof(float)), 64);
    CpuOps.PackLinearWeight(w, k, n, packed);
    foreach (var (name, bias, activation, residual, prepacked) in new (string, bool, Activation, bool, bool)[]
             { ("plain", false, Activation.None, false, false), ("bias+GELU", true, Activation.Gelu, false, false), ("bias+residual", true, Activation.None, true, false),
               ("packed plain", false, Activation.None, false, true), ("packed GELU", true, Activation.Gelu, false, true), ("packed resid", true, Activation.None, true, true) })
    {
        void Call() => CpuOps.LinearPacked(x, m, k, w, prepacked ? packed : null, bias ? b : null, n, y, activation, residual ? r : null);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < Math.Min(1, seconds / 2)) // warm-up: tiered JIT reaches its final code
            Call();
        var times = new List<double>();
        watch.Restart();
        while (watch.Elapsed.TotalSeconds < seconds || times.Count < 5)
        {
            long start = Stopwatch.GetTimestamp();
            Call();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        Console.WriteLine($"  {name,-14} median {median,8:F3} ms  best {times[0],8:F3} ms  {2.0 * m * k * n / median / 1e6,7:F1} GFLOP/s (median)  {times.Count} calls");
    }
}

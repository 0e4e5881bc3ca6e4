using System.Diagnostics;
using System.Globalization;
using System.Text;
using Attention.Kernels;
using Attention.Kernels.Cuda;
using Attention.Kernels.GpuRunner;
using Attention.Kernels.Reference;

// Attention.Kernels GPU runner: device report, measured FMA peaks, numerics against fp64, standard benchmark shapes,
// then PyTorch's scaled_dot_product_attention on the same GPU. Exit code: 0 all checks passed, 1 a check failed,
// 2 no usable CUDA device.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
bool torch = !args.Contains("--no-torch");
var report = new StringBuilder();
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

CudaDevice device;
try
{
    device = CudaDevice.Create();
}
catch (DeviceUnavailableException e)
{
    Console.Error.WriteLine($"No usable CUDA device: {e.Message}");
    return 2;
}

var info = device.Info;
var (nvrtcMajor, nvrtcMinor) = CudaDevice.NvrtcVersion;
Line($"# Attention.Kernels GPU run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Line($"device  {info}");
Line($"        CUDA driver {CudaDevice.DriverVersion / 1000}.{CudaDevice.DriverVersion % 1000 / 10}, NVRTC {nvrtcMajor}.{nvrtcMinor}, " +
     $"{info.MaxThreadsPerBlock} threads/block, {info.SharedMemoryPerBlock / 1024} KiB shared/block ({info.SharedMemoryPerBlockOptIn / 1024} opt-in), " +
     $"{info.ClockRateKHz / 1000} MHz, {info.TheoreticalBandwidth / 1e9:F0} GB/s theoretical");
Line();

// ---- Peaks: FMA throughput on CUDA cores, measured with NVRTC-compiled kernels (not tensor cores). ----
var peaks = Peaks.Measure(device, quick);
Line($"peak    fp32 FMA {peaks.Fp32 / 1e12:F1} TFLOP/s, fp16x2 FMA {peaks.Fp16 / 1e12:F1} TFLOP/s (measured, CUDA cores; tensor-core peaks are higher)");
Line();

// ---- Numerics: every kernel against the fp64 reference. ----
int failures = 0;
Line("## Numerics vs fp64 reference (‖out−ref‖/‖ref‖ ≤ 1e-5 for fp32; fp16/bf16 storage: the tolerance shown, from one output rounding)");
var random = new Random(42);
string smokeBody = SmokeKernel.Body;
foreach (var (b, tq, tk) in new[] { (1, 1, 1), (2, 97, 97), (1, 64, 200), (3, 129, 65), (1, 1000, 1000) })
{
    var p = new AttentionProblem(b, tq, tk, 8, 2, 64, AttentionMask.Causal, 0, 0.125, TensorLayout.BTHD);
    double error = Check(p, (q, k, v, o, l) => CudaAttentionLauncher.LaunchAttention(device, DevicePrelude.Cuda, smokeBody,
        SmokeKernel.EntryPoint, 64, 8, q, k, v, o, l, p.Batch, p.QueryLength, p.KeyLength), hasLse: true);
    Report("smoke (hand-written device C, via CudaAttentionLauncher)", p, error);
}
foreach (var kernel in KernelList.All)
{
    var p = new AttentionProblem(2, 77, 131, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
    try
    {
        Report($"{kernel.Name} (generated launch path)", p, Check(p, kernel.Run, kernel.HasLse));
    }
    catch (NotSupportedException e)
    {
        Line($"  n/a   {kernel.Name}: not wired for CUDA in this build ({e.Message})");
    }
}
foreach (var kernel in StorageKernelList.Half)
    CheckStorage(kernel);
foreach (var kernel in StorageKernelList.BFloat16)
    CheckStorage(kernel);
Line();

// ---- Benchmarks: the standard shapes (B=1, H=8, D=64, T = 512…4096), CUDA events, median of repeats. ----
Line("## Benchmarks (median of timed launches; GFLOP/s from the generated cost model; % of the measured fp32 and fp16x2 FMA peaks)");
Line("   fp16/bf16 rows store q, k, v, output in 16 bits and accumulate in fp32 (CUDA cores): the fp32 peak is their ceiling,");
Line("   the fp16x2 column shows how far a packed-half or tensor-core variant could go.");
var results = new List<(string Name, int Length, double Ms, double Gflops)>();
int[] lengths = quick ? [512, 1024] : [512, 1024, 2048, 4096];
foreach (int t in lengths)
{
    var cost = GpuKernels.CausalGqaLseKernel.Cost(1, t, t);
    var p = new AttentionProblem(1, t, t, 8, 2, 64, AttentionMask.Causal, 0, 0.125, TensorLayout.BTHD);
    double ms = Time(p, (q, k, v, o, l) => CudaAttentionLauncher.LaunchAttention(device, DevicePrelude.Cuda, smokeBody,
        SmokeKernel.EntryPoint, 64, 8, q, k, v, o, l, 1, t, t), hasLse: true);
    Bench("smoke causal GQA 8/2", t, ms, cost.Flops);
    foreach (var (name, run, kernelCost) in new (string, Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>>, KernelCost)[]
             {
                 ("Dense 8/8", GpuKernels.Dense, GpuKernels.DenseKernel.Cost(1, t, t)),
                 ("Causal 8/8", GpuKernels.Causal, GpuKernels.CausalKernel.Cost(1, t, t)),
             })
    {
        var shape = new AttentionProblem(1, t, t, 8, 8, 64, AttentionMask.None, 0, 0.125, TensorLayout.BTHD);
        try
        {
            Bench(name, t, Time(shape, (q, k, v, o, _) => run(q, k, v, o), hasLse: false), kernelCost.Flops);
        }
        catch (NotSupportedException)
        {
            Line($"  {name,-22} T={t,5}: not wired for CUDA in this build");
        }
    }
    var dense = new AttentionProblem(1, t, t, 8, 8, 64, AttentionMask.None, 0, 0.125, TensorLayout.BTHD);
    BenchStorage("Dense 8/8 fp16", t, dense, StorageKernelList.Half[0], GpuKernels.DenseHalfKernel.Cost(1, t, t).Flops);
    BenchStorage("Causal 8/8 fp16", t, dense, StorageKernelList.Half[1], GpuKernels.CausalHalfKernel.Cost(1, t, t).Flops);
    BenchStorage("Dense 8/8 bf16", t, dense, StorageKernelList.BFloat16[0], GpuKernels.DenseBf16Kernel.Cost(1, t, t).Flops);
    BenchStorage("Causal 8/8 bf16", t, dense, StorageKernelList.BFloat16[1], GpuKernels.CausalBf16Kernel.Cost(1, t, t).Flops);
}
Line();

// ---- PyTorch on the same GPU. ----
if (torch)
{
    string script = Path.Combine(AppContext.BaseDirectory, "sdpa_compare.py");
    var lengthsArg = string.Join(',', lengths);
    Line($"## PyTorch scaled_dot_product_attention (python3 {Path.GetFileName(script)})");
    try
    {
        using var python = Process.Start(new ProcessStartInfo("python3", [script, "--lengths", lengthsArg, "--peak-fp32", peaks.Fp32.ToString("R"), "--peak-fp16", peaks.Fp16.ToString("R")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = python.StandardOutput.ReadToEnd();
        string errors = python.StandardError.ReadToEnd();
        python.WaitForExit();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Line(line);
        if (python.ExitCode != 0)
            Line($"  (python exited {python.ExitCode}: {errors.Trim()})");
    }
    catch (System.ComponentModel.Win32Exception e)
    {
        Line($"  skipped: python3 not found ({e.Message})");
    }
}

File.WriteAllText("gpu-report.md", report.ToString());
Console.WriteLine($"\nReport written to {Path.GetFullPath("gpu-report.md")}. {(failures == 0 ? "All checks passed." : $"{failures} checks FAILED.")}");
return failures == 0 ? 0 : 1;

void Report(string name, AttentionProblem p, double error)
{
    bool ok = error <= 1e-5;
    if (!ok)
        failures++;
    Line($"  {(ok ? "ok  " : "FAIL")}  {name}: {p}: {error:E2}");
}

void Bench(string name, int t, double ms, double flops)
{
    double gflops = flops / (ms * 1e-3) / 1e9;
    results.Add((name, t, ms, gflops));
    Line($"  {name,-22} T={t,5}: {ms,9:F3} ms  {gflops,9:F1} GFLOP/s  {100 * gflops * 1e9 / peaks.Fp32,5:F1}% of fp32 peak  {100 * gflops * 1e9 / peaks.Fp16,5:F1}% of fp16x2 peak");
}

double Check(AttentionProblem p, Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>?> run, bool hasLse)
{
    float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
    float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
    float[] v = RandomData.Uniform(random, p.KeyElements);
    var (expected, _) = ReferenceAttention.Compute(p, q, k, v);
    using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
    using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
    using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
    using var ot = Tensor.Create<float>(device, p.QueryShape);
    using var lt = hasLse ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
    ot.Fill(float.NaN);
    run(qt, kt, vt, ot, lt);
    device.Synchronize();
    var output = ot.ToArray();
    return output.Any(float.IsNaN) ? double.PositiveInfinity : Accuracy.RelativeError(output, expected);
}

double Time(AttentionProblem p, Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>?> run, bool hasLse)
{
    using var qt = Tensor.FromArray<float>(device, RandomData.Uniform(random, p.QueryElements), p.QueryShape);
    using var kt = Tensor.FromArray<float>(device, RandomData.Uniform(random, p.KeyElements), p.KeyShape);
    using var vt = Tensor.FromArray<float>(device, RandomData.Uniform(random, p.KeyElements), p.KeyShape);
    using var ot = Tensor.Create<float>(device, p.QueryShape);
    using var lt = hasLse ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
    return MedianLaunchMilliseconds(() => run(qt, kt, vt, ot, lt));
}

void CheckStorage<T>(GpuStorageKernel<T> kernel) where T : unmanaged
{
    var p = new AttentionProblem(2, 77, 131, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout);
    // Inputs rounded to the storage type; the fp64 reference uses exactly those values, so only the output rounding and
    // the fp32 arithmetic are error.
    T[] q = RandomData.Uniform(random, p.QueryElements, 2f).Select(kernel.Narrow).ToArray();
    T[] k = RandomData.Uniform(random, p.KeyElements, 2f).Select(kernel.Narrow).ToArray();
    T[] v = RandomData.Uniform(random, p.KeyElements).Select(kernel.Narrow).ToArray();
    var (expected, _) = ReferenceAttention.Compute(p, q.Select(kernel.Widen).ToArray(), k.Select(kernel.Widen).ToArray(), v.Select(kernel.Widen).ToArray());
    double error;
    try
    {
        using var qt = Tensor.FromArray<T>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<T>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<T>(device, v, p.KeyShape);
        using var ot = Tensor.Create<T>(device, p.QueryShape);
        using var lt = kernel.HasLse ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        ot.Fill(kernel.NaN);
        kernel.Run(qt, kt, vt, ot, lt);
        device.Synchronize();
        var output = ot.ToArray().Select(kernel.Widen).ToArray();
        error = output.Any(float.IsNaN) ? double.PositiveInfinity : Accuracy.RelativeError(output, expected);
    }
    catch (Exception e) when (e is NotSupportedException or CudaException)
    {
        failures++;
        Line($"  FAIL  {kernel.Name} ({kernel.Storage} storage): {e.GetType().Name}: {e.Message}");
        return;
    }
    bool ok = error <= kernel.Tolerance;
    if (!ok)
        failures++;
    Line($"  {(ok ? "ok  " : "FAIL")}  {kernel.Name} ({kernel.Storage} storage, tolerance {kernel.Tolerance:E2}): {p}: {error:E2}");
}

void BenchStorage<T>(string name, int t, AttentionProblem p, GpuStorageKernel<T> kernel, double flops) where T : unmanaged
{
    try
    {
        Bench(name, t, TimeStorage(p, kernel), flops);
    }
    catch (Exception e) when (e is NotSupportedException or CudaException)
    {
        failures++;
        Line($"  {name,-22} T={t,5}: FAILED ({e.GetType().Name}: {e.Message})");
    }
}

double TimeStorage<T>(AttentionProblem p, GpuStorageKernel<T> kernel) where T : unmanaged
{
    using var qt = Tensor.FromArray<T>(device, RandomData.Uniform(random, p.QueryElements).Select(kernel.Narrow).ToArray(), p.QueryShape);
    using var kt = Tensor.FromArray<T>(device, RandomData.Uniform(random, p.KeyElements).Select(kernel.Narrow).ToArray(), p.KeyShape);
    using var vt = Tensor.FromArray<T>(device, RandomData.Uniform(random, p.KeyElements).Select(kernel.Narrow).ToArray(), p.KeyShape);
    using var ot = Tensor.Create<T>(device, p.QueryShape);
    using var lt = kernel.HasLse ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
    return MedianLaunchMilliseconds(() => kernel.Run(qt, kt, vt, ot, lt));
}

// Median GPU time of one launch between two CUDA events, after a first launch that compiles and warms up.
double MedianLaunchMilliseconds(Action launch)
{
    launch();
    device.Synchronize();
    using var start = device.CreateEvent();
    using var end = device.CreateEvent();
    var times = new List<double>();
    for (int i = 0; i < (quick ? 5 : 20); i++)
    {
        start.Record();
        launch();
        end.Record();
        times.Add(CudaEvent.ElapsedMilliseconds(start, end));
    }
    times.Sort();
    return times[times.Count / 2];
}

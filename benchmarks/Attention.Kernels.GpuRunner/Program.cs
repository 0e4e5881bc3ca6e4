using System.Diagnostics;
using System.Globalization;
using System.Text;
using Attention.Kernels;
using Attention.Kernels.GpuRunner;
using Attention.Kernels.Ilgpu;
using Attention.Kernels.Reference;
using ILGPU.Runtime.Cuda;

// Attention.Kernels GPU runner, on an ILGPU device: the peak kernels' PTX, measured peaks, numerics of every declared
// kernel against fp64 (with first-launch times), a model graph against the CPU backend, the standard benchmark shapes
// in fp32/fp16/bf16, the goals of issue 12, then PyTorch's scaled_dot_product_attention on the same GPU.
// usage: Attention.Kernels.GpuRunner [--device NAME] [--quick] [--no-torch] [--ptx]
//   NAME: an ATTENTION_KERNELS_DEVICE name (cuda, cuda:1, opencl, ilgpu-cpu, ...); default cuda.
// Exit code: 0 every check passed, 1 a check failed, 2 no such device.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
bool torch = !args.Contains("--no-torch");
bool dumpPtx = args.Contains("--ptx");
int deviceArg = Array.IndexOf(args, "--device");
string deviceName = deviceArg >= 0 && deviceArg + 1 < args.Length ? args[deviceArg + 1] : "cuda";

IlgpuDevice device;
try
{
    IlgpuBackend.Register();
    var (kind, selector) = DeviceRegistry.Parse(deviceName);
    device = DeviceRegistry.Create(kind, selector) as IlgpuDevice
        ?? throw new DeviceUnavailableException(kind, $"'{deviceName}' is not an ILGPU device (use cuda, opencl or ilgpu-cpu).");
}
catch (DeviceUnavailableException e)
{
    Console.Error.WriteLine($"No usable device '{deviceName}': {e.Message}");
    return 2;
}
catch (ArgumentException)
{
    // (The bundle drops resource strings, so the parser's own message would read as resource keys.)
    Console.Error.WriteLine($"No usable device '{deviceName}': not a device name (cuda, cuda:N, cuda:NAME, opencl, ilgpu-cpu).");
    return 2;
}

bool gpu = !device.RunsOnHost;
var accelerator = device.Accelerator;
var report = new StringBuilder();
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

int failures = 0;
var random = new Random(20261129);
int timedLaunches = gpu ? (quick ? 5 : 20) : 2;

Line($"# Attention.Kernels GPU run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Line();
Line($"- device `{deviceName}`: {device.Name} ({device.Kind}), {accelerator.NumMultiprocessors} multiprocessors, warp {accelerator.WarpSize}, " +
     $"{accelerator.MaxNumThreadsPerGroup} threads/group, {accelerator.MaxSharedMemoryPerGroup / 1024} KiB shared/group, {accelerator.MemorySize / (1 << 20)} MiB");
if (accelerator is CudaAccelerator cuda)
{
    Line($"- CUDA {cuda.Architecture}, PTX ISA {cuda.InstructionSet} (ILGPU targets at most sm_80; the driver JITs the PTX for newer GPUs), " +
         $"driver {cuda.DriverVersion}, {cuda.ClockRate} MHz, memory {cuda.MemoryClockRate} MHz × {cuda.MemoryBusWidth} bit");
}
Line($"- ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version}, .NET {Environment.Version}, {(quick ? "quick run" : "full run")}, median of {timedLaunches} timed launches after a warm-up");
Line();

// ---- The peak kernels' PTX (ILGPU's PTX backend, no driver): the FMA peak must really be FMAs. ----
Line("## Peak kernels: PTX check (ILGPU PTX backend, SM_80, no driver)");
try
{
    var ptx = Peaks.CheckPtx();
    int expected = Peaks.Chains * Peaks.Unroll;
    bool ok = ptx.PtxFmas >= expected && ptx.Fp16x2Fmas >= expected;
    if (!ok)
        failures++;
    Line($"  {(ok ? "ok  " : "FAIL")}  inline-PTX peak kernels: {ptx.PtxFmas} fma.rn.f32, {ptx.Fp16x2Fmas} fma.rn.f16x2 (want ≥ {expected} each: one loop trip written out)");
    Line($"  info  {ptx.LocalAccesses} ld/st.local: ILGPU gives each inline-PTX result an address, stored and reloaded right after its FMA (the");
    Line("        chains stay in registers); ptxas must forward those for a true peak, so the fp32 peak below is the faster of this");
    Line("        kernel and the plain one");
    Line($"  info  plain C# a·b + c: {ptx.MulAddFmas} fma.rn.f32, {ptx.MulAddMuls} mul.f32 + {ptx.MulAddAdds} add.f32 (unrounded: ptxas may contract them to FFMA; the timed ratio below tells)");
    if (dumpPtx)
        Console.WriteLine(ptx.Ptx);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // Each section stands alone: a failure here is reported and the run goes on (a GPU run is too dear to lose whole).
    failures++;
    Line($"  FAIL  PTX check: {e.GetType().Name}: {e.Message}");
}
Line();

// ---- Peaks, measured by ILGPU kernels in this run. ----
Line("## Peaks (measured in this run by ILGPU kernels; CUDA cores, not tensor cores)");
Peaks.Result peaks;
try
{
    peaks = Peaks.Measure(device, quick);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    failures++;
    Line($"  FAIL  peak kernels: {e.GetType().Name}: {e.Message}");
    peaks = new Peaks.Result(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, "not measured: the peak kernels failed");
}
Line($"  fp32 FMA    {Number(peaks.Fp32 / 1e9),12} GFLOP/s{(gpu ? " (the faster of the two kernels below: the denominator of every % here)" : " (plain multiply-add kernel)")}");
if (gpu)
{
    Line($"  fp32 inline {peaks.Fp32Inline / 1e9,12:F1} GFLOP/s (fma.rn.f32 through CudaAsm; each result round-trips through .local, see above)");
    Line($"  fp32 a·b+c  {peaks.Fp32MulAdd / 1e9,12:F1} GFLOP/s (plain C# as ILGPU emits it: mul.f32 + add.f32; ≈ inline means ptxas contracted them to FFMA)");
}
Line($"  fp16x2 FMA  {(double.IsNaN(peaks.Fp16x2) ? "not measured" : $"{peaks.Fp16x2 / 1e9,12:F1} GFLOP/s (inline fma.rn.f16x2: bounded by the same .local round trip, so a floor, not the hardware's peak)")}");
Line($"  copy        {Number(peaks.Bandwidth / 1e9),12} GB/s (read + write)");
if (peaks.Note.Length > 0)
    Line($"  note: {peaks.Note}");
Line();

// ---- Numerics: every declared kernel against the fp64 reference, outputs poisoned first; first-launch times. ----
Line("## Numerics vs fp64 reference (‖out−ref‖/‖ref‖; fp32 ≤ 1e-5, fp16/bf16 storage ≤ u + 2e-5; outputs poisoned with NaN first)");
Line("   first launch = ILGPU compile + driver JIT + run (wall clock); cached = the next launch (wall clock)");
var firstLaunches = new List<(string Name, double Seconds)>();
foreach (var kernel in Catalog.Fp32)
    CheckKernel(kernel);
foreach (var kernel in Catalog.Fp16)
    CheckKernel(kernel);
foreach (var kernel in Catalog.Bf16)
    CheckKernel(kernel);
CheckModel();
Line();

// ---- What the driver made of the benchmark kernels. ----
Line("## Kernel resources (driver; occupancy from ILGPU's estimate)");
foreach (var (name, method, headDim) in new[]
{
    ("Dense16 fp32", KernelResources.Fp32<GpuKernels.Dense16Kernel>(), GpuKernels.Dense16Kernel.HeadDim),
    ("Dense16 bf16", KernelResources.Bf16<GpuKernels.Dense16Bf16Kernel>(), GpuKernels.Dense16Bf16Kernel.HeadDim),
    ("Causal16 fp32", KernelResources.Fp32<GpuKernels.Causal16Kernel>(), GpuKernels.Causal16Kernel.HeadDim),
    ("Decode fp32", KernelResources.Fp32<GpuKernels.DecodeKernel>(), GpuKernels.DecodeKernel.HeadDim),
})
{
    try
    {
        Line($"  {name,-14} {KernelResources.Describe(device, method, headDim)}");
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        Line($"  {name,-14} not available: {e.GetType().Name}: {e.Message}"); // a diagnostic, not a check
    }
}
Line();

// ---- Benchmarks: the standard shapes in fp32, fp16 and bf16. ----
Line($"## Benchmarks (device time from ILGPU profiling markers, median; GFLOP/s from the generated cost model: 4·D per visible pair)");
var bench = new Dictionary<string, double>();
var shapes = BenchShapes();
foreach (var shape in shapes)
{
    Bench(Catalog.Find(Catalog.Fp32, shape.Kernel), shape);
    Bench(Catalog.Find(Catalog.Fp16, shape.Kernel + "Half"), shape);
    Bench(Catalog.Find(Catalog.Bf16, shape.Kernel + "Bf16"), shape);
}
Line();

// ---- Goals of issue 12, evaluated from this run. ----
Line($"## Goals (issue 12){(gpu ? "" : $" — evaluated on {device.Kind}, which is not a GPU: a flow check, not a verdict")}");
var main = shapes[0];
double dense = bench.GetValueOrDefault(Key("Dense16", main)), causal = bench.GetValueOrDefault(Key("Causal16", main));
string Mark(bool ok) => ok ? "✔" : "✘";
Line($"  {Mark(dense * 1e9 >= 0.4 * peaks.Fp32)} fp32 {main.Label} non-causal ≥ 40 % of the fp32 peak: {Percent(dense, peaks.Fp32)}");
Line($"  {Mark(causal * 1e9 >= 0.4 * peaks.Fp32)} fp32 {main.Label} causal at the same rate (visible pairs): {Percent(causal, peaks.Fp32)} ({(dense > 0 ? causal / dense : 0):F2}× non-causal)");
foreach (var (storage, suffix) in new[] { ("fp16", "Half"), ("bf16", "Bf16") })
{
    double d16 = bench.GetValueOrDefault(Key("Dense16" + suffix, main)), c16 = bench.GetValueOrDefault(Key("Causal16" + suffix, main));
    Line($"  {Mark(d16 >= dense && c16 >= causal)} {storage} ≥ fp32: non-causal {Number(d16)} vs {Number(dense)} GFLOP/s, causal {Number(c16)} vs {Number(causal)} GFLOP/s");
}
var slowest = firstLaunches.MaxBy(f => f.Seconds);
Line($"  {Mark(slowest.Seconds < 1)} first launch < 1 s: slowest {slowest.Name} {slowest.Seconds:F2} s, median {Median(firstLaunches.Select(f => f.Seconds).ToList()):F2} s over {firstLaunches.Count} kernels");
Line();

// ---- PyTorch on the same GPU and shapes. ----
if (torch && gpu)
{
    string script = Path.Combine(AppContext.BaseDirectory, "sdpa_compare.py");
    string shapeArg = string.Join(';', shapes.Select(s => $"{s.Batch},{s.Heads},{s.QueryLength},{s.KeyLength},{s.HeadDim},{(s.Causal ? 1 : 0)}"));
    Line($"## PyTorch scaled_dot_product_attention (python3 {Path.GetFileName(script)})");
    try
    {
        using var python = Process.Start(new ProcessStartInfo("python3",
            [script, "--shapes", shapeArg, "--repeats", timedLaunches.ToString(), "--peak-fp32", peaks.Fp32.ToString("R")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var errors = python.StandardError.ReadToEndAsync();
        string output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Line(line);
        if (python.ExitCode != 0)
            Line($"  (python exited {python.ExitCode}: {errors.Result.Trim()})");
    }
    catch (System.ComponentModel.Win32Exception e)
    {
        Line($"  skipped: python3 not found ({e.Message})");
    }
    Line();
}
else
{
    Line($"PyTorch comparison skipped ({(torch ? $"{device.Kind} is not a GPU" : "--no-torch")}).");
}

string reportPath = Path.Combine(AppContext.BaseDirectory, "gpu-report.md");
try
{
    File.WriteAllText(reportPath, report.ToString());
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    reportPath = Path.Combine(Environment.CurrentDirectory, "gpu-report.md");
    File.WriteAllText(reportPath, report.ToString());
}
Console.WriteLine($"\nReport written to {reportPath}. {(failures == 0 ? "All checks passed." : $"{failures} check(s) FAILED.")}");
device.Dispose();
return failures == 0 ? 0 : 1;

// Random odd sizes, small on the CPU accelerator (~700x slower than the CPU backend).
(int Batch, int QueryLength, int KeyLength) RandomSizes(bool decode)
{
    int Odd(int max) => 2 * random.Next(0, max / 2) + 1;
    int batch = random.Next(1, 3);
    int keyLength = gpu ? Odd(400) : Odd(quick ? 40 : 80);
    int queryLength = decode ? 1 : gpu ? Odd(300) : Odd(quick ? 24 : 48);
    return (batch, queryLength, keyLength);
}

void CheckKernel<T>(Kernel<T> kernel) where T : unmanaged
{
    var (b, tq, tk) = RandomSizes(kernel.Name.StartsWith("Decode", StringComparison.Ordinal));
    var p = kernel.Problem(b, tq, tk);
    // Inputs rounded to the storage type; the fp64 reference gets exactly those values, so only the fp32 arithmetic
    // and the output rounding are error.
    T[] q = RandomData.Uniform(random, p.QueryElements, 2f).Select(Storage<T>.Narrow).ToArray();
    T[] k = RandomData.Uniform(random, p.KeyElements, 2f).Select(Storage<T>.Narrow).ToArray();
    T[] v = RandomData.Uniform(random, p.KeyElements).Select(Storage<T>.Narrow).ToArray();
    var (expected, expectedLse) = ReferenceAttention.Compute(p, Widen(q), Widen(k), Widen(v));
    string label = $"{kernel.Name,-18} {kernel.Storage} {p}";
    try
    {
        using var qt = Tensor.FromArray<T>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<T>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<T>(device, v, p.KeyShape);
        using var ot = Tensor.Create<T>(device, p.QueryShape);
        using var lt = kernel.HasLse ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        ot.Fill(Storage<T>.NaN);
        lt?.Fill(float.NaN);
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        kernel.Run(qt, kt, vt, ot, lt);
        device.Synchronize();
        double first = clock.Elapsed.TotalSeconds;
        var output = Widen(ot.ToArray());
        double error = output.Any(float.IsNaN) ? double.PositiveInfinity : Accuracy.RelativeError(output, expected);
        double lseError = 0;
        if (lt is not null)
        {
            var lse = lt.ToArray();
            lseError = LseError(lse, expectedLse);
        }
        clock.Restart();
        kernel.Run(qt, kt, vt, ot, lt);
        device.Synchronize();
        double cached = clock.Elapsed.TotalSeconds;
        firstLaunches.Add((kernel.Name, first));
        bool ok = error <= Storage<T>.Tolerance && lseError <= 1e-5;
        if (!ok)
            failures++;
        Line($"  {(ok ? "ok  " : "FAIL")}  {label}: {error:E2} (≤ {Storage<T>.Tolerance:E1}){(lt is null ? "" : $", lse {lseError:E2}")}; first launch {first:F2} s, cached {cached * 1e3:F2} ms");
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        failures++;
        Line($"  FAIL  {label}: {e.GetType().Name}: {e.Message}");
    }
}

// Rows that see no key have log-sum-exp −∞ in both; they must agree exactly, the rest relatively.
static double LseError(float[] actual, double[] expected)
{
    var finiteActual = new List<float>();
    var finiteExpected = new List<double>();
    for (int i = 0; i < actual.Length; i++)
    {
        if (double.IsNegativeInfinity(expected[i]))
        {
            if (!float.IsNegativeInfinity(actual[i]))
                return double.PositiveInfinity;
            continue;
        }
        if (!float.IsFinite(actual[i]))
            return double.PositiveInfinity;
        finiteActual.Add(actual[i]);
        finiteExpected.Add(expected[i]);
    }
    return finiteActual.Count == 0 ? 0 : Accuracy.RelativeError(finiteActual.ToArray(), finiteExpected.ToArray());
}

static float[] Widen<T>(T[] values) where T : unmanaged => values.Select(Storage<T>.Widen).ToArray();

// A model graph on the device against the CPU backend, same weights and inputs.
void CheckModel()
{
    int batch = 2, length = gpu ? 77 : 13;
    var model = new EncoderBlock();
    model.ForwardWeights.InitializeRandom(7);
    float[] x = RandomData.Uniform(random, batch * length * EncoderBlock.Features);
    using var xc = Tensor.FromArray<float>(Device.Cpu, x, batch, length, EncoderBlock.Features);
    using var yc = Tensor.Create<float>(Device.Cpu, batch, length, EncoderBlock.Features);
    model.Forward(xc, yc);
    double[] expected = yc.ToArray().Select(f => (double)f).ToArray();
    string label = $"EncoderBlock graph (F={EncoderBlock.Features}, H={EncoderBlock.Heads}/{EncoderBlock.KvHeads}, causal) B={batch} T={length} vs CPU backend";
    try
    {
        using var xt = Tensor.FromArray<float>(device, x, batch, length, EncoderBlock.Features);
        using var yt = Tensor.Create<float>(device, batch, length, EncoderBlock.Features);
        yt.Fill(float.NaN);
        model.Forward(xt, yt);
        var output = yt.ToArray();
        double error = output.Any(float.IsNaN) ? double.PositiveInfinity : Accuracy.RelativeError(output, expected);
        bool ok = error <= 1e-5;
        if (!ok)
            failures++;
        Line($"  {(ok ? "ok  " : "FAIL")}  {label}: {error:E2} (≤ 1.0E-005)");
    }
    catch (Exception e) when (IsNotImplemented(e))
    {
        Line($"  n/a   {label}: graph ops: not available in this build");
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        failures++;
        Line($"  FAIL  {label}: {e.GetType().Name}: {e.Message}");
    }
}

static bool IsNotImplemented(Exception? e)
{
    for (; e is not null; e = e.InnerException)
    {
        if (e is NotImplementedException)
            return true;
    }
    return false;
}

List<Shape> BenchShapes()
{
    if (!gpu) // the CPU accelerator: the flow with token sizes
        return [new("Dense16", 1, 16, 48, 48, 64, false), new("Causal16", 1, 16, 48, 48, 64, true), new("Dense", 1, 8, 32, 32, 64, false),
            new("Causal", 1, 8, 32, 32, 64, true), new("Decode", 2, 32, 1, 64, 128, false)];
    int t = quick ? 1024 : 4096;
    var list = new List<Shape> { new("Dense16", 1, 16, t, t, 64, false), new("Causal16", 1, 16, t, t, 64, true) };
    foreach (int length in quick ? new[] { 1024 } : [1024, 2048])
    {
        list.Add(new("Dense", 1, 8, length, length, 64, false));
        list.Add(new("Causal", 1, 8, length, length, 64, true));
    }
    list.Add(new("Decode", 8, 32, 1, quick ? 1024 : 4096, 128, false));
    return list;
}

void Bench<T>(Kernel<T> kernel, Shape shape) where T : unmanaged
{
    var p = kernel.Problem(shape.Batch, shape.QueryLength, shape.KeyLength);
    double flops = kernel.Cost(shape.Batch, shape.QueryLength, shape.KeyLength).Flops;
    // Key splits the launch will use (flash-decoding when the groups cannot fill the GPU), shown when there are any.
    int splits = Attention.Kernels.Ilgpu.Kernels.FlashAttention.KeySplitsFor(device, kernel.HeadDim, kernel.Heads, shape.Batch, shape.QueryLength, shape.KeyLength);
    string label = $"{shape.Label + (splits > 1 ? $" ×{splits} split" : ""),-30} {(shape.Causal ? "causal" : "dense "),-6} {kernel.Storage}";
    try
    {
        using var qt = Tensor.FromArray<T>(device, RandomData.Uniform(random, p.QueryElements).Select(Storage<T>.Narrow).ToArray(), p.QueryShape);
        using var kt = Tensor.FromArray<T>(device, RandomData.Uniform(random, p.KeyElements).Select(Storage<T>.Narrow).ToArray(), p.KeyShape);
        using var vt = Tensor.FromArray<T>(device, RandomData.Uniform(random, p.KeyElements).Select(Storage<T>.Narrow).ToArray(), p.KeyShape);
        using var ot = Tensor.Create<T>(device, p.QueryShape);
        kernel.Run(qt, kt, vt, ot, null); // warm-up (compiled already by the numerics suite)
        device.Synchronize();
        var times = new List<double>();
        for (int i = 0; i < timedLaunches; i++)
            times.Add(device.Time(() => kernel.Run(qt, kt, vt, ot, null)).TotalSeconds);
        double seconds = Median(times);
        double gflops = flops / seconds / 1e9;
        bench[Key(kernel.Name.Replace("Half", "", StringComparison.Ordinal).Replace("Bf16", "", StringComparison.Ordinal) + Suffix<T>(), shape)] = gflops;
        double bytes = kernel.Cost(shape.Batch, shape.QueryLength, shape.KeyLength).BytesMoved;
        Line($"  {label}: {seconds * 1e3,10:F3} ms {Number(gflops),10} GFLOP/s {Percent(gflops, peaks.Fp32),22}  {Number(bytes / seconds / 1e9),8} GB/s ({100 * bytes / seconds / peaks.Bandwidth:F1} % of copy)");
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        failures++;
        Line($"  {label}: FAILED ({e.GetType().Name}: {e.Message})");
    }
}

// One decimal for GPU-sized numbers, three significant digits for the CPU accelerator's.
static string Number(double value) => value >= 100 || value == 0 ? value.ToString("F1") : value.ToString("G3");

static string Suffix<T>() => typeof(T) == typeof(float) ? "" : typeof(T) == typeof(Half) ? "Half" : "Bf16";

static string Key(string kernel, Shape shape) => $"{kernel}@{shape.Label}";

static string Percent(double gflops, double peak) => $"{100 * gflops * 1e9 / peak:F1} % of fp32 peak";

static double Median(List<double> values)
{
    if (values.Count == 0)
        return double.NaN;
    values.Sort();
    return values[values.Count / 2];
}

internal sealed record Shape(string Kernel, int Batch, int Heads, int QueryLength, int KeyLength, int HeadDim, bool Causal)
{
    public string Label => $"B{Batch} H{Heads} Tq{QueryLength} Tk{KeyLength} D{HeadDim}";
}

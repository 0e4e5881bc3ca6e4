using System.Diagnostics;
using Attention.Kernels;
using Attention.Kernels.Reference;
using QuickStart;

// Runs each kernel on the default device (ATTENTION_KERNELS_DEVICE=cpu|cuda|opencl|ilgpu-cpu to choose) at a realistic
// size, checks it against an fp64 reference, and prints time, GFLOP/s and the relative error.
var device = Device.Default;
Console.WriteLine($"Device: {device}");
// ILGPU's CPU accelerator runs the GPU kernels one thread per work-item (a semantics check, ~700x slower): shorter sequences.
int Length = device.Kind == DeviceKind.IlgpuCpu ? 128 : 1024;
if (device.Kind == DeviceKind.IlgpuCpu)
    Console.WriteLine($"(ILGPU's CPU accelerator: sequences of {Length} instead of 1024)");
Console.WriteLine();
Console.WriteLine($"{"kernel",-16} {"shape",-34} {"time",10} {"GFLOP/s",9} {"rel. error",11}");

const int Batch = 1, Heads = 8, HeadDim = 64;
var random = new Random(2026);
double worst = 0;
worst = Math.Max(worst, Run("CausalGqa", (q, k, v, o, _) => Kernels.CausalGqa(q, k, v, o), Kernels.CausalGqaKernel.Cost,
    new AttentionProblem(Batch, Length, Length, Heads, 2, HeadDim, AttentionMask.Causal, 0, Kernels.CausalGqaKernel.Scale, TensorLayout.BTHD)));
worst = Math.Max(worst, Run("SelfAttention", (q, k, v, o, _) => Kernels.SelfAttention(q, k, v, o), Kernels.SelfAttentionKernel.Cost,
    new AttentionProblem(Batch, Length, Length, Heads, Heads, HeadDim, AttentionMask.None, 0, Kernels.SelfAttentionKernel.Scale, TensorLayout.BTHD)));
worst = Math.Max(worst, Run("CrossAttention", Kernels.CrossAttention, Kernels.CrossAttentionKernel.Cost,
    new AttentionProblem(Batch, Length / 4, Length, Heads, Heads, HeadDim, AttentionMask.None, 0, Kernels.CrossAttentionKernel.Scale, TensorLayout.BTHD)));

Console.WriteLine();
Console.WriteLine($"max relative error: {worst:E2} ({(worst <= 1e-5 ? "OK, within 1e-5" : "FAILED, above 1e-5")})");
return worst <= 1e-5 ? 0 : 1;

// kernel(q, k, v, output, logSumExp): kernels without a log-sum-exp output ignore the last tensor.
double Run(string name, Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> kernel,
    Func<int, int, int, KernelCost> cost, AttentionProblem p)
{
    float[] q = RandomData.Uniform(random, p.QueryElements), k = RandomData.Uniform(random, p.KeyElements), v = RandomData.Uniform(random, p.KeyElements);
    using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
    using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
    using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
    using var ot = Tensor.Create<float>(device, p.QueryShape);
    using var lse = Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength);
    void Launch()
    {
        kernel(qt, kt, vt, ot, lse);
        device.Synchronize();
    }

    Launch(); // warm-up: JIT (CPU), or ILGPU's compilation and the driver's (accelerators)
    var times = new List<double>();
    var total = Stopwatch.StartNew();
    while (times.Count < 5 || (total.Elapsed.TotalSeconds < 1.5 && times.Count < 200))
    {
        var watch = Stopwatch.StartNew();
        Launch();
        times.Add(watch.Elapsed.TotalSeconds);
    }
    times.Sort();
    double median = times[times.Count / 2];

    ot.Fill(float.NaN); // poison, then one more run checked against the fp64 reference
    Launch();
    var (expected, _) = ReferenceAttention.Compute(p, q, k, v);
    double error = Accuracy.RelativeError(ot.ToArray(), expected);
    string shape = $"B{p.Batch} H{p.Heads}/{p.KvHeads} Tq{p.QueryLength} Tk{p.KeyLength} D{p.HeadDim}";
    Console.WriteLine($"{name,-16} {shape,-34} {median * 1e3,7:F2} ms {cost(p.Batch, p.QueryLength, p.KeyLength).GflopsPerSecond(median),9:F1} {error,11:E2}");
    return error;
}

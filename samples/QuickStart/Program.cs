using System.Diagnostics;
using Attention.Kernels;

// Runs two fused attention kernels (B=1, H=8, D=64, T=1024 by default) on Device.Default and prints time, GFLOP/s
// and the error against an fp64 reference on a sample of rows. Force a backend with ATTENTION_KERNELS_DEVICE=cpu|opencl|cuda.
int length = args.Length > 0 ? int.Parse(args[0]) : 1024;
const int Batch = 1, Heads = Kernels.CausalKernel.Heads, HeadDim = Kernels.CausalKernel.HeadDim;
var device = Device.Default;
Console.WriteLine($"Device: {device}   B={Batch} H={Heads} T={length} D={HeadDim}");

Run("non-causal", Kernels.NonCausal, Kernels.NonCausalKernel.Cost(Batch, length, length), causal: false);
Run("causal", Kernels.Causal, Kernels.CausalKernel.Cost(Batch, length, length), causal: true);

void Run(string name, Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> kernel, KernelCost cost, bool causal)
{
    var random = new Random(42);
    float[] Random(int n) => Enumerable.Range(0, n).Select(_ => random.NextSingle() * 2 - 1).ToArray();
    int[] shape = [Batch, length, Heads, HeadDim];
    float[] q = Random(Batch * length * Heads * HeadDim), k = Random(q.Length), v = Random(q.Length);
    using var qt = Tensor.FromArray<float>(device, q, shape);
    using var kt = Tensor.FromArray<float>(device, k, shape);
    using var vt = Tensor.FromArray<float>(device, v, shape);
    using var ot = Tensor.Create<float>(device, shape);

    kernel(qt, kt, vt, ot); // first run: compiles device kernels (cached afterwards)
    device.Synchronize();
    var clock = Stopwatch.StartNew();
    int runs = 0;
    do
    {
        kernel(qt, kt, vt, ot);
        device.Synchronize();
        runs++;
    } while (clock.Elapsed.TotalSeconds < 2 && runs < 50);
    double seconds = clock.Elapsed.TotalSeconds / runs;

    // fp64 reference for 16 query rows spread over the sequence, every head.
    float[] o = ot.ToArray();
    double diff = 0, norm = 0;
    for (int i = 0; i < length; i += Math.Max(1, length / 16))
    for (int h = 0; h < Heads; h++)
    {
        int visible = causal ? i + 1 : length;
        var p = new double[visible];
        for (int j = 0; j < visible; j++)
            for (int d = 0; d < HeadDim; d++)
                p[j] += (double)q[(i * Heads + h) * HeadDim + d] * k[(j * Heads + h) * HeadDim + d] / Math.Sqrt(HeadDim);
        double max = p.Max(), sum = p.Sum(s => Math.Exp(s - max));
        for (int d = 0; d < HeadDim; d++)
        {
            double expected = 0;
            for (int j = 0; j < visible; j++)
                expected += Math.Exp(p[j] - max) / sum * v[(j * Heads + h) * HeadDim + d];
            double actual = o[(i * Heads + h) * HeadDim + d];
            diff += (actual - expected) * (actual - expected);
            norm += expected * expected;
        }
    }
    Console.WriteLine($"{name,-11} {seconds * 1e3,9:F2} ms  {cost.GflopsPerSecond(seconds),8:F1} GFLOP/s  " +
                      $"rel. error {Math.Sqrt(diff / norm):E1}  ({runs} runs)");
}

/// <summary>The kernels: declared once, generated at build time for every backend.</summary>
public static partial class Kernels
{
    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
    public static partial void NonCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
    public static partial void Causal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
}

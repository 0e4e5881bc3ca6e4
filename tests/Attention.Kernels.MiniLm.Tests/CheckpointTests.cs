using Attention.Kernels.MiniLm;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.MiniLm.Tests;

/// <summary>
/// <see cref="MiniLmCheckpoint"/> on the package's real model: every BERT weight is found under its PyTorch name, and
/// loaded through a <see cref="CheckpointMap"/> into <see cref="ModelWeights"/> they compute (in fp64) what ONNX Runtime
/// computes, so no name, transposition or layer is mixed up.
/// </summary>
[Collection(MiniLmCollection.Name)]
public sealed class CheckpointTests(OnnxPeerFixture peer, ITestOutputHelper log)
{
    [Fact]
    public void Every_bert_weight_is_named_as_in_pytorch_and_nothing_else_is_there()
    {
        var checkpoint = peer.Checkpoint.Value;
        Assert.Equal(MiniLmCheckpoint.Names.Select(n => n.Name).Order(), checkpoint.Tensors.Select(t => t.Name).Order());
        Assert.Equal(103, checkpoint.Tensors.Count);
        // The renamed matrices are shown transposed back to [out, in]; the embeddings are not transposed.
        Assert.True(checkpoint.SourceOf("encoder.layer.0.intermediate.dense.weight")!.Transposed);
        Assert.Equal([1536, 384], checkpoint.Find("encoder.layer.0.intermediate.dense.weight")!.Shape);
        Assert.False(checkpoint.SourceOf("embeddings.word_embeddings.weight")!.Transposed);
        Assert.DoesNotContain(".", checkpoint.SourceOf("encoder.layer.5.output.dense.weight")!.Tensor); // a number in the file
    }

    [Fact]
    public void Weights_loaded_through_a_map_reproduce_onnx_runtime()
    {
        // A model whose nodes are the PyTorch modules (node "encoder.layer.0.attention.self.query", weight "weight"):
        // the identity map, written out the way a model's own map is.
        var layout = MiniLmCheckpoint.Names
            .Where(n => !n.Name.StartsWith("pooler.", StringComparison.Ordinal))
            .Select(n => new WeightSpec(n.Name[..n.Name.LastIndexOf('.')], n.Name[(n.Name.LastIndexOf('.') + 1)..], n.Shape, n.Name))
            .ToArray();
        var map = new CheckpointMap().IgnoreWhere(name => name.StartsWith("pooler.", StringComparison.Ordinal));
        foreach (var spec in layout)
            map.Add(spec.Node + "." + spec.Name, spec.Node, spec.Name);
        using var weights = new ModelWeights(layout);
        foreach (var spec in layout)
            weights[spec.Node, spec.Name].Fill(float.NaN);
        weights.LoadCheckpoint(peer.Checkpoint.Value, map);

        // Sentences of different lengths in one padded batch: ORT sees the padding, the reference only the valid tokens.
        var batch = peer.Tokenizer.Encode([.. OnnxPeerTests.DocumentationSentences, "A much longer sentence, with commas, to pad the others well beyond their ends."]);
        var onnx = peer.Onnx.Run(batch);
        float[] Weight(string name)
        {
            int dot = name.LastIndexOf('.');
            return weights[name[..dot], name[(dot + 1)..]].ToArray();
        }
        var cache = new Dictionary<string, float[]>();
        double error = 0, norm = 0;
        for (int b = 0; b < batch.Batch; b++)
        {
            var expected = BertReference.LastHiddenState(n => cache.TryGetValue(n, out var w) ? w : cache[n] = Weight(n),
                batch.InputIds.AsSpan(b * batch.Length, batch.Lengths[b]));
            for (int i = 0; i < expected.Length; i++)
            {
                double actual = onnx.LastHiddenState[b * batch.Length * MiniLmOnnx.Hidden + i];
                error += (actual - expected[i]) * (actual - expected[i]);
                norm += expected[i] * expected[i];
            }
        }
        double relative = Math.Sqrt(error / norm);
        log.WriteLine($"ORT vs fp64 reference on valid tokens: ‖Δ‖/‖ref‖ = {relative:E2} (lengths {string.Join(", ", batch.Lengths)})");
        Assert.True(relative < 1e-5, $"‖Δ‖/‖ref‖ = {relative}");
    }
}

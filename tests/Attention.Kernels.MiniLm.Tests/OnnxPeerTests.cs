using Attention.Kernels.MiniLm;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.MiniLm.Tests;

/// <summary>
/// One ONNX Runtime session and one parsed checkpoint for every test of the project: each reads the 91 MB model (about a
/// second each).
/// </summary>
public sealed class OnnxPeerFixture : IDisposable
{
    public MiniLmOnnx Onnx { get; } = new(intraOpThreads: 2);

    public MiniLmTokenizer Tokenizer { get; } = new();

    /// <summary>The package's model as a checkpoint in PyTorch names (parsed once: about a second).</summary>
    public Lazy<CheckpointView> Checkpoint { get; } = new(MiniLmCheckpoint.Load);

    public void Dispose() => Onnx.Dispose();
}

/// <summary>The tests that share <see cref="OnnxPeerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class MiniLmCollection : ICollectionFixture<OnnxPeerFixture>
{
    public const string Name = "MiniLM";
}

/// <summary>The peer itself: the package's model through ONNX Runtime reproduces what sentence-transformers publishes.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class OnnxPeerTests(OnnxPeerFixture peer, ITestOutputHelper log)
{
    /// <summary>The example of the sentence-transformers documentation (sbert.net, "Usage") and its printed similarities.</summary>
    public static readonly string[] DocumentationSentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."];

    private static readonly double[,] PublishedSimilarities =
    {
        { 1.0000, 0.6660, 0.1046 },
        { 0.6660, 1.0000, 0.1411 },
        { 0.1046, 0.1411, 1.0000 },
    };

    [Fact]
    public void Documentation_sentences_give_the_published_similarity_matrix()
    {
        var output = peer.Onnx.Run(peer.Tokenizer.Encode(DocumentationSentences));
        var similarities = SentenceEmbeddings.CosineSimilarities(output.Embeddings, output.Batch, MiniLmOnnx.Hidden);
        for (int i = 0; i < 3; i++)
            log.WriteLine(string.Join("  ", Enumerable.Range(0, 3).Select(j => similarities[i, j].ToString("F6"))));
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
                Assert.Equal(PublishedSimilarities[i, j], Math.Round(similarities[i, j], 4), 4);
        }
    }

    [Fact]
    public void Padding_does_not_change_a_sentence_embedding()
    {
        // Alone, the short sentence has no padding; beside a long one it has many padded tokens, masked out by the model
        // (additive mask) and by the pooling.
        string shortSentence = DocumentationSentences[0];
        string longSentence = string.Join(' ', Enumerable.Repeat("The stadium was full of people cheering loudly.", 5));
        var alone = peer.Onnx.Run(peer.Tokenizer.Encode([shortSentence]));
        var padded = peer.Onnx.Run(peer.Tokenizer.Encode([longSentence, shortSentence]));
        Assert.True(padded.Length > alone.Length + 20);

        double dot = 0;
        for (int f = 0; f < MiniLmOnnx.Hidden; f++)
            dot += (double)alone.Embeddings[f] * padded.Embeddings[MiniLmOnnx.Hidden + f];
        Assert.True(dot > 0.99999, $"cosine {dot}");
        Assert.Equal(alone.Length * MiniLmOnnx.Hidden, alone.LastHiddenState.Length);
        Assert.Equal(2 * padded.Length * MiniLmOnnx.Hidden, padded.LastHiddenState.Length);
    }
}

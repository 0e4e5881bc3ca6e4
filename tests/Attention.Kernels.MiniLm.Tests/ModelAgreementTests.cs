using Attention.Kernels.MiniLm;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.MiniLm.Tests;

/// <summary>The model with the package's weights (loading parses the 91 MB ONNX model: seconds), and ONNX Runtime, once for the class.</summary>
public sealed class MiniLmModelFixture : IDisposable
{
    public MiniLmModel Model { get; } = MiniLmModel.FromPackage();

    public MiniLmOnnx Onnx { get; } = new(intraOpThreads: 2);

    public MiniLmTokenizer Tokenizer { get; } = new();

    public void Dispose()
    {
        Onnx.Dispose();
        Model.ForwardWeights.Dispose();
    }
}

/// <summary>
/// all-MiniLM-L6-v2 as an [AttentionModel] (samples/MiniLm/MiniLmModel.cs) against ONNX Runtime running the package's model
/// on the same padded batch: last_hidden_state on the valid tokens to ‖Δ‖/‖ref‖ ≤ 1e-5, every embedding to cosine ≥ 0.99999,
/// and the documentation's similarity matrix as published, on the CPU backend and (a small batch) on ILGPU's CPU accelerator.
/// </summary>
public sealed class ModelAgreementTests(MiniLmModelFixture fixture, ITestOutputHelper log) : IClassFixture<MiniLmModelFixture>
{
    private const double HiddenTolerance = 1e-5, CosineTolerance = 0.99999;

    /// <summary>The documentation's three sentences, then a long one and a one-word one: lengths from 3 to 40-odd tokens.</summary>
    private static readonly string[] Sentences =
    [
        .. OnnxPeerTests.DocumentationSentences,
        "A man is playing a guitar on the stage while the crowd sings along with every word of the chorus, loudly and happily.",
        "Hello",
    ];

    private static readonly double[,] PublishedSimilarities =
    {
        { 1.0000, 0.6660, 0.1046 },
        { 0.6660, 1.0000, 0.1411 },
        { 0.1046, 0.1411, 1.0000 },
    };

    [Fact]
    public void Cpu_backend_matches_onnx_runtime_on_a_padded_batch()
    {
        var batch = fixture.Tokenizer.Encode(Sentences);
        Assert.True(batch.Lengths.Distinct().Count() >= 4, "the batch must mix lengths, so padding is exercised");
        var ours = fixture.Model.Run(batch, Device.Cpu);
        var reference = fixture.Onnx.Run(batch);
        var (hiddenError, minCosine) = MiniLmRunner.Compare(ours, reference, batch);
        log.WriteLine($"B={batch.Batch} T={batch.Length} lengths={string.Join(",", batch.Lengths)}: hidden ‖Δ‖/‖ref‖ = {hiddenError:E2}, min cosine = {minCosine:F9}");
        Assert.True(hiddenError <= HiddenTolerance, $"last_hidden_state error {hiddenError:E2}");
        Assert.True(minCosine >= CosineTolerance, $"embedding cosine {minCosine:F9}");
        Assert.All(ours.LastHiddenState, v => Assert.True(float.IsFinite(v))); // padded rows are defined too

        // The documentation's sentences, taken from the padded batch, give the published matrix.
        var similarities = SentenceEmbeddings.CosineSimilarities(ours.Embeddings.AsSpan(0, 3 * MiniLmModel.Hidden), 3, MiniLmModel.Hidden);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
                Assert.Equal(PublishedSimilarities[i, j], Math.Round(similarities[i, j], 4), 4);
        }
    }

    /// <summary>The Run overloads that write into a caller's buffer (the benchmark reuses one per side across calls): every
    /// value of a NaN-poisoned buffer is written, on both sides, for two batches of one shape in turn.</summary>
    [Fact]
    public void Reused_output_buffers_are_fully_written_on_both_sides()
    {
        var first = fixture.Tokenizer.Encode(Sentences);
        var second = fixture.Tokenizer.Encode([.. Sentences.Reverse()]);
        var ours = MiniLmOutput.For(first);
        var reference = MiniLmOutput.For(first);
        foreach (var batch in new[] { first, second })
        {
            foreach (var buffer in new[] { ours, reference })
            {
                Array.Fill(buffer.LastHiddenState, float.NaN);
                Array.Fill(buffer.Embeddings, float.NaN);
            }
            fixture.Model.Run(batch, Device.Cpu, ours);
            fixture.Onnx.Run(batch, reference);
            Assert.All(ours.LastHiddenState, v => Assert.True(float.IsFinite(v)));
            Assert.All(ours.Embeddings, v => Assert.True(float.IsFinite(v)));
            Assert.All(reference.LastHiddenState, v => Assert.True(float.IsFinite(v)));
            Assert.All(reference.Embeddings, v => Assert.True(float.IsFinite(v)));
            var (hiddenError, minCosine) = MiniLmRunner.Compare(ours, reference, batch);
            Assert.True(hiddenError <= HiddenTolerance, $"last_hidden_state error {hiddenError:E2}");
            Assert.True(minCosine >= CosineTolerance, $"embedding cosine {minCosine:F9}");
        }
    }

    [Fact]
    public void An_output_buffer_of_another_shape_is_rejected_naming_it()
    {
        var batch = fixture.Tokenizer.Encode(Sentences);
        var wrong = MiniLmOutput.For(fixture.Tokenizer.Encode(["Hello"]));
        Assert.Equal("into", Assert.Throws<ArgumentException>(() => fixture.Model.Run(batch, Device.Cpu, wrong)).ParamName);
        Assert.Equal("into", Assert.Throws<ArgumentException>(() => fixture.Onnx.Run(batch, wrong)).ParamName);
    }

    [Fact]
    public void A_sentence_embeds_the_same_alone_and_in_a_padded_batch()
    {
        var alone = fixture.Model.Run(fixture.Tokenizer.Encode([Sentences[4]]), Device.Cpu);
        var padded = fixture.Model.Run(fixture.Tokenizer.Encode(Sentences), Device.Cpu);
        double dot = 0;
        for (int f = 0; f < MiniLmModel.Hidden; f++)
            dot += (double)alone.Embeddings[f] * padded.Embeddings[4 * MiniLmModel.Hidden + f];
        Assert.True(dot >= CosineTolerance, $"cosine {dot:F9}");
    }

    /// <summary>
    /// Opt-in (AK_MINILM_ILGPU=1): even two short sentences take minutes on ILGPU's CPU accelerator here, whose GEMM tiles
    /// are 256-thread groups emulated with OS threads and a barrier every 16 columns of K (some 20,000 group barriers per
    /// forward pass on 2 cores). Every node kind of this model runs on the accelerator in every test run instead, in
    /// Attention.Kernels.Tests' TinyBert model test against fp64 (same kernels, small widths).
    /// </summary>
    [SkippableFact]
    public void Ilgpu_cpu_accelerator_matches_onnx_runtime_on_a_small_padded_batch()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("AK_MINILM_ILGPU") == "1",
            "minutes on ILGPU's CPU accelerator: set AK_MINILM_ILGPU=1 (TinyBert covers the same kernels on it in every run)");
        var batch = fixture.Tokenizer.Encode(["Hello", "He drove to the stadium."]);
        using var device = Ilgpu.IlgpuDevice.Create(DeviceKind.IlgpuCpu);
        var ours = fixture.Model.Run(batch, device);
        var reference = fixture.Onnx.Run(batch);
        var (hiddenError, minCosine) = MiniLmRunner.Compare(ours, reference, batch);
        log.WriteLine($"B={batch.Batch} T={batch.Length} lengths={string.Join(",", batch.Lengths)}: hidden ‖Δ‖/‖ref‖ = {hiddenError:E2}, min cosine = {minCosine:F9}");
        Assert.True(hiddenError <= HiddenTolerance, $"last_hidden_state error {hiddenError:E2}");
        Assert.True(minCosine >= CosineTolerance, $"embedding cosine {minCosine:F9}");
    }
}

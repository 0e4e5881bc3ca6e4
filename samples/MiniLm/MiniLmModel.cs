namespace Attention.Kernels.MiniLm;

/// <summary>
/// all-MiniLM-L6-v2 as an <c>[AttentionModel]</c>: a 6-layer BERT encoder (hidden 384, 12 heads of 32, intermediate 1536,
/// vocabulary 30522, 512 positions, exact-erf GELU, LayerNorm ε 1e-12, post-LN residuals) from token ids to
/// <c>last_hidden_state</c>, then sentence-transformers' head: mean pooling over the valid tokens and L2 normalization.
/// The generator fuses each attention's output projection with its residual, the FFN's GELU into its first GEMM and its
/// residual into the second; attention reads q, k and v in place from the packed projection and never visits padded keys.
/// </summary>
/// <remarks>
/// Weights: <see cref="Load(ICheckpoint)"/> from a checkpoint in PyTorch's BERT names (<see cref="CheckpointMap"/>), e.g.
/// <see cref="MiniLmCheckpoint"/> over the package's ONNX model. Padded query rows of <c>lastHiddenState</c> are defined:
/// they attend to their sentence's tokens, as in PyTorch and ONNX Runtime (whose additive mask gives the same result).
/// </remarks>
[AttentionModel]
public partial class MiniLmModel
{
    /// <summary>Sizes of all-MiniLM-L6-v2.</summary>
    public const int Hidden = 384, Heads = 12, HeadDim = 32, Intermediate = 1536, Vocabulary = 30522, Positions = 512, TokenTypes = 2, Layers = 6;

    /// <summary>BERT's LayerNorm ε.</summary>
    public const double Epsilon = 1e-12;

    /// <summary>
    /// The encoder and the sentence head for a padded batch: ids, token types and attention mask (1 = token, 0 = padding,
    /// each row's tokens first) are [B, T] ints; lastHiddenState is [B, T, 384], embeddings [B, 384] (unit length).
    /// </summary>
    [Embedding("tokenEmbeddings", From = "inputIds", Vocabulary = Vocabulary, Features = Hidden, Positions = Positions, TokenTypes = TokenTypes,
        TokenTypeIds = "tokenTypeIds", Epsilon = Epsilon)]
    [MultiHeadAttention("layer0.attention", From = "tokenEmbeddings", HeadDim = HeadDim, Heads = Heads, KeyPadding = "attentionMask")]
    [Residual("layer0.attention.residual", From = "layer0.attention", Skip = "tokenEmbeddings")]
    [LayerNorm("layer0.attention.norm", From = "layer0.attention.residual", Epsilon = Epsilon)]
    [Linear("layer0.intermediate", From = "layer0.attention.norm", OutFeatures = Intermediate, Activation = Activation.Gelu)]
    [Linear("layer0.output", From = "layer0.intermediate", OutFeatures = Hidden)]
    [Residual("layer0.output.residual", From = "layer0.output", Skip = "layer0.attention.norm")]
    [LayerNorm("layer0.output.norm", From = "layer0.output.residual", Epsilon = Epsilon)]
    [MultiHeadAttention("layer1.attention", From = "layer0.output.norm", HeadDim = HeadDim, Heads = Heads, KeyPadding = "attentionMask")]
    [Residual("layer1.attention.residual", From = "layer1.attention", Skip = "layer0.output.norm")]
    [LayerNorm("layer1.attention.norm", From = "layer1.attention.residual", Epsilon = Epsilon)]
    [Linear("layer1.intermediate", From = "layer1.attention.norm", OutFeatures = Intermediate, Activation = Activation.Gelu)]
    [Linear("layer1.output", From = "layer1.intermediate", OutFeatures = Hidden)]
    [Residual("layer1.output.residual", From = "layer1.output", Skip = "layer1.attention.norm")]
    [LayerNorm("layer1.output.norm", From = "layer1.output.residual", Epsilon = Epsilon)]
    [MultiHeadAttention("layer2.attention", From = "layer1.output.norm", HeadDim = HeadDim, Heads = Heads, KeyPadding = "attentionMask")]
    [Residual("layer2.attention.residual", From = "layer2.attention", Skip = "layer1.output.norm")]
    [LayerNorm("layer2.attention.norm", From = "layer2.attention.residual", Epsilon = Epsilon)]
    [Linear("layer2.intermediate", From = "layer2.attention.norm", OutFeatures = Intermediate, Activation = Activation.Gelu)]
    [Linear("layer2.output", From = "layer2.intermediate", OutFeatures = Hidden)]
    [Residual("layer2.output.residual", From = "layer2.output", Skip = "layer2.attention.norm")]
    [LayerNorm("layer2.output.norm", From = "layer2.output.residual", Epsilon = Epsilon)]
    [MultiHeadAttention("layer3.attention", From = "layer2.output.norm", HeadDim = HeadDim, Heads = Heads, KeyPadding = "attentionMask")]
    [Residual("layer3.attention.residual", From = "layer3.attention", Skip = "layer2.output.norm")]
    [LayerNorm("layer3.attention.norm", From = "layer3.attention.residual", Epsilon = Epsilon)]
    [Linear("layer3.intermediate", From = "layer3.attention.norm", OutFeatures = Intermediate, Activation = Activation.Gelu)]
    [Linear("layer3.output", From = "layer3.intermediate", OutFeatures = Hidden)]
    [Residual("layer3.output.residual", From = "layer3.output", Skip = "layer3.attention.norm")]
    [LayerNorm("layer3.output.norm", From = "layer3.output.residual", Epsilon = Epsilon)]
    [MultiHeadAttention("layer4.attention", From = "layer3.output.norm", HeadDim = HeadDim, Heads = Heads, KeyPadding = "attentionMask")]
    [Residual("layer4.attention.residual", From = "layer4.attention", Skip = "layer3.output.norm")]
    [LayerNorm("layer4.attention.norm", From = "layer4.attention.residual", Epsilon = Epsilon)]
    [Linear("layer4.intermediate", From = "layer4.attention.norm", OutFeatures = Intermediate, Activation = Activation.Gelu)]
    [Linear("layer4.output", From = "layer4.intermediate", OutFeatures = Hidden)]
    [Residual("layer4.output.residual", From = "layer4.output", Skip = "layer4.attention.norm")]
    [LayerNorm("layer4.output.norm", From = "layer4.output.residual", Epsilon = Epsilon)]
    [MultiHeadAttention("layer5.attention", From = "layer4.output.norm", HeadDim = HeadDim, Heads = Heads, KeyPadding = "attentionMask")]
    [Residual("layer5.attention.residual", From = "layer5.attention", Skip = "layer4.output.norm")]
    [LayerNorm("layer5.attention.norm", From = "layer5.attention.residual", Epsilon = Epsilon)]
    [Linear("layer5.intermediate", From = "layer5.attention.norm", OutFeatures = Intermediate, Activation = Activation.Gelu)]
    [Linear("layer5.output", From = "layer5.intermediate", OutFeatures = Hidden)]
    [Residual("layer5.output.residual", From = "layer5.output", Skip = "layer5.attention.norm")]
    [LayerNorm("lastHiddenState", From = "layer5.output.residual", Epsilon = Epsilon)]
    [MeanPooling("pooled", From = "lastHiddenState", Padding = "attentionMask")]
    [L2Normalize("embeddings", From = "pooled")]
    public partial void Forward(Tensor<int> inputIds, Tensor<int> tokenTypeIds, Tensor<int> attentionMask, Tensor<float> lastHiddenState, Tensor<float> embeddings);

    /// <summary>Loads every weight from <paramref name="checkpoint"/> (PyTorch BERT names and layout) through <see cref="Map"/>.</summary>
    /// <exception cref="CheckpointMismatchException">The checkpoint is not this model's; nothing was loaded.</exception>
    public MiniLmModel Load(ICheckpoint checkpoint)
    {
        ForwardWeights.LoadCheckpoint(checkpoint, Map);
        return this;
    }

    /// <summary>A model with the package's weights (<see cref="MiniLmCheckpoint.Load"/>: reads and parses the 91 MB ONNX model).</summary>
    public static MiniLmModel FromPackage() => new MiniLmModel().Load(MiniLmCheckpoint.Load());

    /// <summary>
    /// PyTorch's BERT names onto this model's nodes: q, k and v of each layer stacked into its packed QKV projection, the
    /// LayerNorms' weight/bias as gamma/beta; the BERT pooler (unused by sentence embeddings) ignored.
    /// </summary>
    public static CheckpointMap Map { get; } = BuildMap();

    private static CheckpointMap BuildMap()
    {
        var map = new CheckpointMap()
            .Add("embeddings.word_embeddings.weight", "tokenEmbeddings", "tokens")
            .Add("embeddings.position_embeddings.weight", "tokenEmbeddings", "positions")
            .Add("embeddings.token_type_embeddings.weight", "tokenEmbeddings", "types")
            .Add("embeddings.LayerNorm.weight", "tokenEmbeddings", "gamma")
            .Add("embeddings.LayerNorm.bias", "tokenEmbeddings", "beta");
        for (int i = 0; i < Layers; i++)
        {
            string source = $"encoder.layer.{i}.", node = $"layer{i}.";
            foreach (string part in new[] { "weight", "bias" })
            {
                map.Stack(node + "attention.qkv", part,
                    new CheckpointSource(source + "attention.self.query." + part),
                    new CheckpointSource(source + "attention.self.key." + part),
                    new CheckpointSource(source + "attention.self.value." + part));
                map.Add(source + "attention.output.dense." + part, node + "attention.out", part);
                map.Add(source + "intermediate.dense." + part, node + "intermediate", part);
                map.Add(source + "output.dense." + part, node + "output", part);
            }
            string lastNorm = i == Layers - 1 ? "lastHiddenState" : node + "output.norm";
            map.Add(source + "attention.output.LayerNorm.weight", node + "attention.norm", "gamma")
               .Add(source + "attention.output.LayerNorm.bias", node + "attention.norm", "beta")
               .Add(source + "output.LayerNorm.weight", lastNorm, "gamma")
               .Add(source + "output.LayerNorm.bias", lastNorm, "beta");
        }
        return map.Ignore("pooler.dense.weight", "pooler.dense.bias");
    }
}

/// <summary>Runs <see cref="MiniLmModel"/> on tokenized batches and compares its outputs with a reference (ONNX Runtime's).</summary>
public static class MiniLmRunner
{
    /// <summary>
    /// The model's outputs for <paramref name="batch"/> on <paramref name="device"/> (inputs copied there, outputs read back):
    /// the same record ONNX Runtime's peer returns.
    /// </summary>
    public static MiniLmOutput Run(this MiniLmModel model, TokenizedBatch batch, Device device)
    {
        var output = MiniLmOutput.For(batch);
        model.Run(batch, device, output);
        return output;
    }

    /// <summary>
    /// As <see cref="Run(MiniLmModel, TokenizedBatch, Device)"/>, into the caller's <paramref name="into"/> (see
    /// <see cref="MiniLmOutput.For"/>): the outputs are copied from the device's tensors into its arrays.
    /// </summary>
    public static void Run(this MiniLmModel model, TokenizedBatch batch, Device device, MiniLmOutput into)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(into);
        into.CheckFits(batch, nameof(into));
        using var ids = Tensor.FromArray<int>(device, batch.InputIds, batch.Batch, batch.Length);
        using var types = Tensor.FromArray<int>(device, batch.TokenTypeIds, batch.Batch, batch.Length);
        using var mask = Tensor.FromArray<int>(device, batch.AttentionMask, batch.Batch, batch.Length);
        using var hidden = Tensor.Create<float>(device, batch.Batch, batch.Length, MiniLmModel.Hidden);
        using var embeddings = Tensor.Create<float>(device, batch.Batch, MiniLmModel.Hidden);
        model.Forward(ids, types, mask, hidden, embeddings);
        hidden.CopyTo(into.LastHiddenState);
        embeddings.CopyTo(into.Embeddings);
    }

    /// <summary>
    /// How far <paramref name="actual"/> is from <paramref name="expected"/>: ‖Δ‖/‖ref‖ of last_hidden_state over the valid
    /// tokens only (padded rows are outside the contract), and the smallest cosine between corresponding embeddings.
    /// </summary>
    public static (double HiddenError, double MinCosine) Compare(MiniLmOutput actual, MiniLmOutput expected, TokenizedBatch batch)
    {
        double difference = 0, reference = 0;
        for (int b = 0; b < batch.Batch; b++)
        {
            for (int t = 0; t < batch.Lengths[b]; t++)
            {
                int at = (b * batch.Length + t) * MiniLmModel.Hidden;
                for (int f = 0; f < MiniLmModel.Hidden; f++)
                {
                    double d = actual.LastHiddenState[at + f] - (double)expected.LastHiddenState[at + f];
                    difference += d * d;
                    reference += (double)expected.LastHiddenState[at + f] * expected.LastHiddenState[at + f];
                }
            }
        }
        double minCosine = 1;
        for (int b = 0; b < batch.Batch; b++)
        {
            double dot = 0, a2 = 0, e2 = 0;
            for (int f = 0; f < MiniLmModel.Hidden; f++)
            {
                double a = actual.Embeddings[b * MiniLmModel.Hidden + f], e = expected.Embeddings[b * MiniLmModel.Hidden + f];
                dot += a * e;
                a2 += a * a;
                e2 += e * e;
            }
            minCosine = Math.Min(minCosine, dot / Math.Max(Math.Sqrt(a2 * e2), 1e-300));
        }
        return (Math.Sqrt(difference / Math.Max(reference, 1e-300)), minCosine);
    }
}

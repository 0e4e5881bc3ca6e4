using Attention.Kernels.Onnx;

namespace Attention.Kernels.MiniLm;

/// <summary>
/// The weights of all-MiniLM-L6-v2 as the PyTorch BERT checkpoint names and lays them out
/// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.N.attention.self.query.weight</c> [out, in], …), read from
/// the package's model.onnx: embeddings, biases and LayerNorm parameters keep their names there; the six matrices of each
/// layer are found by tracing each MatMul to the bias it feeds (<see cref="OnnxCheckpoint.FindLinears"/>) and shown
/// transposed back from ONNX's [in, out]. Map these names onto a model's nodes with a <see cref="CheckpointMap"/>.
/// </summary>
public static class MiniLmCheckpoint
{
    /// <summary>Encoder layers.</summary>
    public const int Layers = 6;

    /// <summary>Hidden size.</summary>
    public const int Hidden = 384;

    /// <summary>Attention heads (of <see cref="HeadDim"/> each).</summary>
    public const int Heads = 12;

    /// <summary>Features per head.</summary>
    public const int HeadDim = Hidden / Heads;

    /// <summary>Feed-forward width.</summary>
    public const int Intermediate = 1536;

    /// <summary>WordPiece vocabulary size.</summary>
    public const int Vocabulary = 30522;

    /// <summary>Position embeddings.</summary>
    public const int Positions = 512;

    /// <summary>Token types (segments).</summary>
    public const int TokenTypes = 2;

    /// <summary>ε of every LayerNorm (BERT's 1e-12).</summary>
    public const double LayerNormEpsilon = 1e-12;

    /// <summary>The package's model.onnx as a checkpoint in PyTorch names and layout (reads and parses 91 MB: about a second).</summary>
    public static CheckpointView Load() => FromOnnx(OnnxCheckpoint.Load(MiniLmResources.ReadModel(), MiniLmResources.ModelResource));

    /// <summary>
    /// <paramref name="onnx"/>'s weights in PyTorch names and layout: each traced linear weight under its bias's name
    /// (<c>….bias</c> → <c>….weight</c>), transposed where the graph stores it [in, out]; every other floating-point
    /// initializer under its own name. Integer initializers (position ids, the graph's shape constants) are left out: they
    /// are not weights.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor of the BERT layout (<see cref="Names"/>) is not found, or has another shape.</exception>
    public static CheckpointView FromOnnx(OnnxCheckpoint onnx)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var view = new CheckpointView(onnx);
        var linears = onnx.FindLinears();
        var traced = linears.Select(l => l.Weight).ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in onnx.Tensors)
        {
            if (tensor.DType != CheckpointDType.Unsupported && !traced.Contains(tensor.Name))
                view.Add(tensor.Name, tensor.Name);
        }
        foreach (var linear in linears)
        {
            string name = linear.WeightName
                ?? throw new InvalidDataException($"{onnx.Source}: the weight '{linear.Weight}' of {linear.Node} feeds the bias '{linear.Bias}', whose name does not end in 'bias'.");
            view.Add(name, linear.Weight, linear.Transposed);
        }

        var problems = Names
            .Select(expected => (expected.Name, expected.Shape, Found: view.Find(expected.Name)))
            .Where(e => e.Found is null || !e.Found.Shape.AsSpan().SequenceEqual(e.Shape))
            .Select(e => e.Found is null ? $"{e.Name} {TensorShape.Format(e.Shape)} is missing" : $"{e.Found} should be {TensorShape.Format(e.Shape)}")
            .ToList();
        if (problems.Count > 0)
            throw new InvalidDataException($"{onnx.Source} is not the all-MiniLM-L6-v2 BERT this expects: {string.Join("; ", problems)}.");
        return view;
    }

    /// <summary>
    /// Every tensor of the checkpoint with its shape, in PyTorch's names and order (embeddings, then each layer, then the
    /// BERT pooler, which sentence embeddings do not use): what a map onto a model's nodes must account for.
    /// </summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Names { get; } = BuildNames();

    private static List<(string, int[])> BuildNames()
    {
        var names = new List<(string, int[])>
        {
            ("embeddings.word_embeddings.weight", [Vocabulary, Hidden]),
            ("embeddings.position_embeddings.weight", [Positions, Hidden]),
            ("embeddings.token_type_embeddings.weight", [TokenTypes, Hidden]),
            ("embeddings.LayerNorm.weight", [Hidden]),
            ("embeddings.LayerNorm.bias", [Hidden]),
        };
        for (int layer = 0; layer < Layers; layer++)
        {
            string prefix = $"encoder.layer.{layer}.";
            void Linear(string name, int outFeatures, int inFeatures)
            {
                names.Add((prefix + name + ".weight", [outFeatures, inFeatures]));
                names.Add((prefix + name + ".bias", [outFeatures]));
            }
            void Norm(string name)
            {
                names.Add((prefix + name + ".weight", [Hidden]));
                names.Add((prefix + name + ".bias", [Hidden]));
            }
            Linear("attention.self.query", Hidden, Hidden);
            Linear("attention.self.key", Hidden, Hidden);
            Linear("attention.self.value", Hidden, Hidden);
            Linear("attention.output.dense", Hidden, Hidden);
            Norm("attention.output.LayerNorm");
            Linear("intermediate.dense", Intermediate, Hidden);
            Linear("output.dense", Hidden, Intermediate);
            Norm("output.LayerNorm");
        }
        names.Add(("pooler.dense.weight", [Hidden, Hidden]));
        names.Add(("pooler.dense.bias", [Hidden]));
        return names;
    }
}

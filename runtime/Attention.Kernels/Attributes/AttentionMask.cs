namespace Attention.Kernels;

/// <summary>Which keys a query may attend to.</summary>
/// <remarks>
/// <para>With query length Tq and key length Tk, each masked kind is a band below a diagonal: query i sees key j only if
/// j ≤ i + d. The two causal alignments differ only in d, and only when Tq ≠ Tk (for Tq = Tk they are the same mask):</para>
/// <list type="bullet">
/// <item><see cref="Causal"/> and <see cref="SlidingWindow"/> align the mask to the <b>bottom-right</b>, d = Tk − Tq: the
/// last query sits on the last key, as in FlashAttention (<c>causal=True</c>) and in decoding with a KV cache, where the
/// Tq new queries follow the Tk − Tq cached keys.</item>
/// <item><see cref="CausalTopLeft"/> aligns it to the <b>top-left</b>, d = 0: query i sees keys j ≤ i, as PyTorch's
/// <c>scaled_dot_product_attention(..., is_causal=True)</c> does (a lower-triangular <c>torch.ones(L, S).tril(diagonal=0)</c>).</item>
/// </list>
/// <para>A query row that can see no key (bottom-right with Tq &gt; Tk: its first Tq − Tk rows) yields zeros (and a
/// log-sum-exp of −∞), never NaN. See docs/kernels/masks.md.</para>
/// </remarks>
public enum AttentionMask
{
    /// <summary>Every query sees every key.</summary>
    None = 0,

    /// <summary>Causal aligned bottom-right (FlashAttention, KV-cache decoding): query i sees keys j ≤ i + (Tk − Tq).</summary>
    Causal = 1,

    /// <summary>
    /// Causal aligned bottom-right, and only the last <c>Window</c> keys: i + (Tk − Tq) − Window &lt; j ≤ i + (Tk − Tq).
    /// </summary>
    SlidingWindow = 2,

    /// <summary>
    /// Causal aligned top-left (PyTorch's <c>is_causal=True</c>): query i sees keys j ≤ i, whatever Tq and Tk. Every query
    /// sees at least key 0 when Tk &gt; 0; with Tq &lt; Tk the last Tk − Tq keys are seen by no query.
    /// </summary>
    CausalTopLeft = 3,
}

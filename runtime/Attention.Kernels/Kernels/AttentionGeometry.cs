namespace Attention.Kernels;

/// <summary>Which (query, key) pairs a mask lets through; shared by the cost model, benchmarks and references.</summary>
public static class AttentionGeometry
{
    /// <summary>
    /// The diagonal d of a masked kind: query i sees keys j ≤ i + d. Tk − Tq for the bottom-right aligned
    /// <see cref="AttentionMask.Causal"/> and <see cref="AttentionMask.SlidingWindow"/>, 0 for the top-left aligned
    /// <see cref="AttentionMask.CausalTopLeft"/> (and for <see cref="AttentionMask.None"/>, which has no diagonal).
    /// </summary>
    public static int Diagonal(AttentionMask mask, int queryLength, int keyLength) => mask switch
    {
        AttentionMask.Causal or AttentionMask.SlidingWindow => keyLength - queryLength,
        AttentionMask.None or AttentionMask.CausalTopLeft => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(mask), mask, null),
    };

    /// <summary>True if query <paramref name="query"/> may attend to key <paramref name="key"/> (alignment as <see cref="Diagonal"/>).</summary>
    public static bool IsVisible(int query, int key, int queryLength, int keyLength, AttentionMask mask, int window)
    {
        int offset = key - query - Diagonal(mask, queryLength, keyLength);
        return mask switch
        {
            AttentionMask.None => true,
            AttentionMask.Causal or AttentionMask.CausalTopLeft => offset <= 0,
            AttentionMask.SlidingWindow => offset <= 0 && offset > -window,
            _ => throw new ArgumentOutOfRangeException(nameof(mask), mask, null),
        };
    }

    /// <summary>Number of visible keys of query <paramref name="query"/>.</summary>
    public static long VisibleKeys(int query, int queryLength, int keyLength, AttentionMask mask, int window)
    {
        if (mask == AttentionMask.None)
            return keyLength;
        long last = Math.Min((long)keyLength - 1, (long)query + Diagonal(mask, queryLength, keyLength)); // last visible key
        long first = mask == AttentionMask.SlidingWindow ? Math.Max(0, last - window + 1) : 0;
        return Math.Max(0, last - first + 1);
    }

    /// <summary>Number of visible (query, key) pairs for one (batch, head): the work a block-skipping kernel does.</summary>
    public static double VisiblePairs(int queryLength, int keyLength, AttentionMask mask, int window)
    {
        if (mask == AttentionMask.None)
            return (double)queryLength * keyLength;
        double pairs = 0;
        for (int query = 0; query < queryLength; query++)
            pairs += VisibleKeys(query, queryLength, keyLength, mask, window);
        return pairs;
    }
}

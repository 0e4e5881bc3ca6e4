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

    /// <summary>
    /// Visible (query, key) pairs of one launch, summed over its batch entries, for one head: what the kernels with built-in
    /// length and id tensors compute. Query i of entry b sees key j iff the <paramref name="mask"/>/<paramref name="window"/>
    /// shows it (the diagonal placed on the full <paramref name="keyLength"/>, as <see cref="IsVisible"/>), j is below the
    /// entry's key length (<paramref name="keyLengths"/>[b], clamped to 0..Tk), the ids match (<paramref name="documentIds"/>
    /// [b·Tk + i] = [b·Tk + j]) and, with prefix-LM, j &lt; <paramref name="prefixLengths"/>[b] (clamped) or j ≤ i. An empty
    /// span leaves its rule out. Exact, in O(B·T log T): a row's visible keys before the document rule are one range, and the
    /// keys of that range with the row's id are counted by binary search in the entry's (id, position) list.
    /// </summary>
    /// <exception cref="ArgumentException">A span is neither empty nor of its size ([B], [B, T] with Tq = Tk for the ids).</exception>
    public static double VisiblePairs(int batch, int queryLength, int keyLength, AttentionMask mask, int window,
        ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> documentIds, ReadOnlySpan<int> prefixLengths)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(queryLength);
        ArgumentOutOfRangeException.ThrowIfNegative(keyLength);
        ExpectSize(keyLengths.Length, batch, nameof(keyLengths), "[B]");
        ExpectSize(prefixLengths.Length, batch, nameof(prefixLengths), "[B]");
        if (!documentIds.IsEmpty && queryLength != keyLength)
            throw new ArgumentException($"'{nameof(documentIds)}' gives one id per position of a self-attention batch, so Tq = {queryLength} must equal Tk = {keyLength}.", nameof(documentIds));
        ExpectSize(documentIds.Length, (long)batch * keyLength, nameof(documentIds), $"[B, T] = [{batch}, {keyLength}]");
        if (keyLengths.IsEmpty && documentIds.IsEmpty && prefixLengths.IsEmpty)
            return batch * VisiblePairs(queryLength, keyLength, mask, window);

        int diagonal = Diagonal(mask, queryLength, keyLength);
        long[] byId = documentIds.IsEmpty ? [] : new long[keyLength];
        double pairs = 0;
        for (int b = 0; b < batch; b++)
        {
            int keys = keyLengths.IsEmpty ? keyLength : Math.Clamp(keyLengths[b], 0, keyLength);
            int prefix = prefixLengths.IsEmpty ? 0 : Math.Clamp(prefixLengths[b], 0, keyLength);
            ReadOnlySpan<int> ids = documentIds.IsEmpty ? default : documentIds.Slice(b * keyLength, keyLength);
            for (int j = 0; j < byId.Length; j++)
                byId[j] = IdAndPosition(ids[j], j); // sorted: each id's positions in one ascending run
            Array.Sort(byId);
            for (int i = 0; i < queryLength; i++)
            {
                long first = 0, last = keys - 1; // keys [first, last] before the document rule
                if (mask != AttentionMask.None)
                    last = Math.Min(last, (long)i + diagonal);
                if (mask == AttentionMask.SlidingWindow)
                    first = Math.Max(first, (long)i + diagonal - window + 1);
                if (!prefixLengths.IsEmpty)
                    last = Math.Min(last, Math.Max(prefix - 1, i)); // j < prefix or j ≤ i
                if (last < first)
                    continue;
                pairs += ids.IsEmpty
                    ? last - first + 1
                    : LowerBound(byId, IdAndPosition(ids[i], last + 1)) - LowerBound(byId, IdAndPosition(ids[i], first));
            }
        }
        return pairs;
    }

    /// <summary>Orders (id, position) by id, then position (positions 0..2³¹).</summary>
    private static long IdAndPosition(int id, long position) => ((long)id << 32) + position;

    /// <summary>Index of the first element ≥ <paramref name="value"/> in ascending, distinct <paramref name="sorted"/>.</summary>
    private static int LowerBound(long[] sorted, long value)
    {
        int index = Array.BinarySearch(sorted, value);
        return index < 0 ? ~index : index;
    }

    private static void ExpectSize(int length, long expected, string argument, string shape)
    {
        if (length != 0 && length != expected)
            throw new ArgumentException($"'{argument}' has {length} elements, but its shape {shape} needs {expected}.", argument);
    }

    /// <summary>
    /// <see cref="VisiblePairs(int, int, int, AttentionMask, int, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int})"/>
    /// of the tensors a launch takes (null: the kernel takes none), read back to the host: the generated data-aware <c>Cost</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor's shape is not [B] (lengths) or [B, Tk] with Tq = Tk (ids).</exception>
    public static double VisiblePairs(int batch, int queryLength, int keyLength, AttentionMask mask, int window,
        Tensor<int>? keyLengths, Tensor<int>? documentIds, Tensor<int>? prefixLengths)
    {
        if (keyLengths is not null)
            TensorShape.Expect(keyLengths, nameof(keyLengths), "[B]", batch);
        if (documentIds is not null)
            TensorShape.Expect(documentIds, nameof(documentIds), "[B, T]", batch, keyLength);
        if (prefixLengths is not null)
            TensorShape.Expect(prefixLengths, nameof(prefixLengths), "[B]", batch);
        // An empty tensor reads as an empty span; a real one is never empty here unless batch (or Tk) is 0, which leaves no pairs either way.
        return VisiblePairs(batch, queryLength, keyLength, mask, window,
            keyLengths?.ToArray() ?? [], documentIds?.ToArray() ?? [], prefixLengths?.ToArray() ?? []);
    }
}

namespace Attention.Kernels;

/// <summary>Which <c>attnMask</c> tensor a kernel takes (PyTorch SDPA's <c>attn_mask</c>; docs/kernels/masks.md).</summary>
public enum MaskTensorKind
{
    /// <summary>No mask tensor.</summary>
    None,

    /// <summary><c>Tensor&lt;bool&gt;</c>: true where the query takes part with the key (hidden where false).</summary>
    Boolean,

    /// <summary><c>Tensor&lt;float&gt;</c>: added to the scaled score (−∞ hides the pair).</summary>
    Additive,
}

/// <summary>
/// Element strides of an attention mask tensor broadcast over the attention weights [B, H, Tq, Tk] (PyTorch's rules: the
/// mask's shape is right-aligned with [B, H, Tq, Tk], and an axis of size 1, or a missing one, is repeated: stride 0).
/// </summary>
public readonly record struct MaskStrides(long Batch, long Head, long Query, long Key)
{
    /// <summary>Element offset of (batch, head, query, key).</summary>
    public long Offset(int batch, int head, int query, int key) => batch * Batch + head * Head + query * Query + key * Key;

    /// <summary>
    /// The strides of a contiguous mask of shape <paramref name="shape"/> broadcast to [batch, heads, queryLength, keyLength];
    /// throws an <see cref="ArgumentException"/> naming <paramref name="argument"/> and both shapes when it does not broadcast.
    /// </summary>
    public static MaskStrides Broadcast(ReadOnlySpan<int> shape, string argument, int batch, int heads, int queryLength, int keyLength)
    {
        Span<int> target = [batch, heads, queryLength, keyLength];
        Span<long> strides = stackalloc long[4];
        if (shape.Length is < 1 or > 4)
            throw Mismatch(shape, argument, target);
        long stride = 1;
        for (int axis = 3, at = shape.Length - 1; axis >= 0; axis--, at--)
        {
            int size = at >= 0 ? shape[at] : 1;
            if (size != 1 && size != target[axis])
                throw Mismatch(shape, argument, target);
            strides[axis] = size == 1 ? 0 : stride;
            stride *= size;
        }
        return new MaskStrides(strides[0], strides[1], strides[2], strides[3]);
    }

    private static ArgumentException Mismatch(ReadOnlySpan<int> shape, string argument, ReadOnlySpan<int> target) =>
        new($"Tensor '{argument}' has shape {TensorShape.Format(shape)}, which does not broadcast to the attention weights [B, H, Tq, Tk] = " +
            $"{TensorShape.Format(target)} (PyTorch's rules: [Tq, Tk], [B|1, H|1, Tq|1, Tk|1], axes of size 1 repeat).", argument);
}

namespace Attention.Kernels;

/// <summary>Shape checks the generated launch code runs before every kernel.</summary>
public static class TensorShape
{
    /// <summary>Formats a shape as <c>[1, 128, 8, 64]</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming <paramref name="argument"/> unless its shape is
    /// <paramref name="expected"/>. <paramref name="symbolic"/> names the axes, e.g. <c>[B, Tq, H=8, D=64]</c>.
    /// </summary>
    public static void Expect<T>(Tensor<T>? tensor, string argument, string symbolic, params ReadOnlySpan<int> expected)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor, argument);
        ExpectNotDisposed(tensor, argument);
        if (!tensor.Shape.SequenceEqual(expected))
            throw new ArgumentException(
                $"Tensor '{argument}' must have shape {symbolic} = {Format(expected)}, but has {Format(tensor.Shape)}.", argument);
    }

    /// <summary>Throws unless <paramref name="tensor"/> has <paramref name="rank"/> axes.</summary>
    public static void ExpectRank<T>(Tensor<T>? tensor, string argument, string symbolic, int rank) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor, argument);
        ExpectNotDisposed(tensor, argument);
        if (tensor.Rank != rank)
            throw new ArgumentException(
                $"Tensor '{argument}' must have {rank} axes {symbolic}, but has shape {Format(tensor.Shape)}.", argument);
    }

    /// <summary>
    /// Throws an <see cref="ObjectDisposedException"/> naming <paramref name="argument"/> and its shape if the tensor was
    /// disposed (its memory is back in the pool), so a kernel never reads or writes returned memory.
    /// </summary>
    public static void ExpectNotDisposed<T>(Tensor<T> tensor, string argument) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor, argument);
        if (tensor.IsDisposed)
            throw new ObjectDisposedException(argument,
                $"Tensor '{argument}' ({typeof(T).Name}{Format(tensor.Shape)} on {tensor.Device}) was disposed before this call; pass a live tensor.");
    }

    /// <summary>Throws unless <paramref name="tensor"/> lives on <paramref name="device"/>.</summary>
    public static void ExpectDevice<T>(Tensor<T> tensor, string argument, Device device) where T : unmanaged
    {
        if (!ReferenceEquals(tensor.Device, device))
            throw new ArgumentException($"Tensor '{argument}' is on {tensor.Device}, but the other tensors are on {device}.", argument);
    }

    /// <summary>
    /// Checks a per-batch length tensor (key padding): shape [B] = [<paramref name="batch"/>], on <paramref name="device"/>,
    /// every value in 0..<paramref name="max"/>. Throws an <see cref="ArgumentException"/> naming <paramref name="argument"/>,
    /// the offending entry and <paramref name="bound"/> (what the maximum is, e.g. <c>Tk of k [2, 64, 4, 8]</c>). The values
    /// are read on the host (an accelerator's tensor is copied down: B ints).
    /// </summary>
    public static void ExpectLengths(Tensor<int>? lengths, string argument, int batch, int max, string bound, Device device)
    {
        Expect(lengths, argument, "[B]", batch);
        ExpectDevice(lengths!, argument, device);
        Span<int> values = batch <= 256 ? stackalloc int[batch] : new int[batch];
        lengths!.CopyTo(values);
        for (int b = 0; b < batch; b++)
        {
            if ((uint)values[b] > (uint)max)
                throw new ArgumentOutOfRangeException(argument, values[b],
                    $"Tensor '{argument}' {TypeName(lengths)}: {argument}[{b}] = {values[b]} is outside 0..{max} ({bound}).");
        }
    }

    /// <summary>
    /// Checks the offsets of a packed variable-length batch (FlashAttention's <c>cu_seqlens</c>): one axis of B + 1 ints on
    /// <paramref name="device"/> (B = <paramref name="batch"/> when that is ≥ 0), starting at 0, never decreasing, ending at
    /// <paramref name="total"/> (the packed tensor's token count, described by <paramref name="bound"/>). Returns B and the
    /// longest sequence. Throws an <see cref="ArgumentException"/> naming <paramref name="argument"/> and the entry. The values
    /// are read on the host (an accelerator's tensor is copied down: B + 1 ints).
    /// </summary>
    public static (int Batch, int MaxLength) ExpectOffsets(Tensor<int>? offsets, string argument, int total, string bound, Device device, int batch = -1)
    {
        if (batch >= 0)
            Expect(offsets, argument, "[B + 1]", batch + 1);
        else
            ExpectRank(offsets, argument, "[B + 1]", 1);
        ExpectDevice(offsets!, argument, device);
        int count = offsets!.Dim(0);
        if (count < 1)
            throw new ArgumentException($"Tensor '{argument}' must have B + 1 ≥ 1 entries (the first is 0), but has shape {Format(offsets.Shape)}.", argument);
        Span<int> values = count <= 257 ? stackalloc int[count] : new int[count];
        offsets.CopyTo(values);
        if (values[0] != 0)
            throw new ArgumentException($"Tensor '{argument}' {TypeName(offsets)}: {argument}[0] = {values[0]}, but offsets start at 0.", argument);
        int longest = 0;
        for (int b = 1; b < count; b++)
        {
            if (values[b] < values[b - 1])
                throw new ArgumentException($"Tensor '{argument}' {TypeName(offsets)}: {argument}[{b}] = {values[b]} is less than {argument}[{b - 1}] = {values[b - 1]}; offsets never decrease.", argument);
            longest = Math.Max(longest, values[b] - values[b - 1]);
        }
        if (values[count - 1] != total)
            throw new ArgumentException($"Tensor '{argument}' {TypeName(offsets)}: the last offset {argument}[{count - 1}] = {values[count - 1]} must equal {total} ({bound}).", argument);
        return (count - 1, longest);
    }

    /// <summary>
    /// Checks an attention mask tensor (PyTorch SDPA's <c>attn_mask</c>): its shape broadcasts to [batch, heads, queryLength,
    /// keyLength] (<see cref="MaskStrides.Broadcast"/>) and it lives on <paramref name="device"/>; throws naming <paramref name="argument"/>.
    /// </summary>
    public static void ExpectMask<T>(Tensor<T>? mask, string argument, int batch, int heads, int queryLength, int keyLength, Device device)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(mask, argument);
        ExpectNotDisposed(mask, argument);
        MaskStrides.Broadcast(mask.Shape, argument, batch, heads, queryLength, keyLength);
        ExpectDevice(mask, argument, device);
    }

    /// <summary>
    /// Checks the built-in document mask's ids: self-attention only (<paramref name="queryLength"/> must equal
    /// <paramref name="keyLength"/>: one id per position serves queries and keys), shape [B, T] and on <paramref name="device"/>.
    /// Any int values are allowed (documents need not be contiguous or sorted). Throws an <see cref="ArgumentException"/>
    /// naming <paramref name="argument"/> and the shapes, e.g. <c>q has Tq = 5 but k has Tk = 7</c>.
    /// </summary>
    public static void ExpectDocumentIds(Tensor<int>? documentIds, string argument, int batch, int queryLength, int keyLength, string shapes, Device device)
    {
        ArgumentNullException.ThrowIfNull(documentIds, argument);
        ExpectNotDisposed(documentIds, argument);
        if (queryLength != keyLength)
            throw new ArgumentException(
                $"Tensor '{argument}' gives one document id per position of a self-attention batch, so q and k need the same length, " +
                $"but q has Tq = {queryLength} and k has Tk = {keyLength} ({shapes}). For cross-attention write a MaskMod.", argument);
        Expect(documentIds, argument, "[B, T]", batch, keyLength);
        ExpectDevice(documentIds, argument, device);
    }

    private static string TypeName<T>(Tensor<T> tensor) where T : unmanaged => $"{typeof(T).Name}{Format(tensor.Shape)}";
}

using Attention.Kernels.Reference;

namespace Attention.Kernels.Tests.Storage;

/// <summary>Runs a kernel declared over <typeparamref name="T"/> storage: (q, k, v, output, logSumExp or null).</summary>
public delegate void StorageRunner<T>(Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> output, Tensor<float>? logSumExp) where T : unmanaged;

/// <summary>A kernel declared over fp16 or bf16 storage and its compile-time constants.</summary>
public sealed record StorageKernelCase(
    string Name, string Storage, int HeadDim, int Heads, int KvHeads, AttentionMask Mask, int Window, float Scale, TensorLayout Layout,
    bool HasLogSumExp, Func<AttentionProblem, Device, Random, AttentionCheck> Check)
{
    public static StorageKernelCase Half(string name, int headDim, int heads, int kvHeads, AttentionMask mask, int window, float scale,
        TensorLayout layout, bool hasLse, StorageRunner<System.Half> run) =>
        new(name, "fp16", headDim, heads, kvHeads, mask, window, scale, layout, hasLse,
            (p, device, random) => StorageHarness.Run(run, hasLse, p, device, random, f => (System.Half)f, h => (float)h, System.Half.NaN));

    public static StorageKernelCase BFloat16(string name, int headDim, int heads, int kvHeads, AttentionMask mask, int window, float scale,
        TensorLayout layout, bool hasLse, StorageRunner<Kernels.BFloat16> run) =>
        new(name, "bf16", headDim, heads, kvHeads, mask, window, scale, layout, hasLse,
            (p, device, random) => StorageHarness.Run(run, hasLse, p, device, random, f => (Kernels.BFloat16)f, b => (float)b, Kernels.BFloat16.NaN));

    /// <summary>
    /// The bound on ‖out − ref‖/‖ref‖ for this storage. The reference is computed in fp64 from the rounded inputs, so input
    /// rounding is not error; what remains is the fp32 kernel (≤ 1e-5, the fp32 suite's bound) and the one rounding of each
    /// output element to storage precision: |fl(y) − y| ≤ u·|y| per element gives ‖fl(y) − y‖ ≤ u·‖y‖, with u = 2^-11 for
    /// fp16 and 2^-8 for bf16 (unit roundoff, round to nearest). So u·(1 + 1e-5) + 1e-5, plus 1e-5 for fp16 outputs in the
    /// subnormal range (below 2^-14 the error is absolute, ≤ 2^-25, not relative; negligible against ‖ref‖ at these sizes).
    /// </summary>
    public double Tolerance => (Storage == "fp16" ? Math.ScaleB(1, -11) : Math.ScaleB(1, -8)) * (1 + 1e-5) + 2e-5;

    public AttentionProblem RandomProblem(Random random, int maxLength = 300) =>
        AttentionHarness.RandomProblem(HeadDim, Heads, KvHeads, Mask, Window, Scale, Layout, random, maxLength);

    public override string ToString() => Name;
}

/// <summary>Runs fp16/bf16 kernels on any device against the fp64 reference computed from the rounded inputs.</summary>
public static class StorageHarness
{
    /// <summary>
    /// Draws random inputs, rounds them to <typeparamref name="T"/> (the host's scalar conversion, not the code under test),
    /// computes the reference in fp64 from exactly those values, poisons the outputs with NaN, runs, and compares.
    /// </summary>
    public static AttentionCheck Run<T>(StorageRunner<T> run, bool hasLse, AttentionProblem p, Device device, Random random,
        Func<float, T> narrow, Func<T, float> widen, T nan) where T : unmanaged
    {
        T[] q = RandomData.Uniform(random, p.QueryElements, 2f).Select(narrow).ToArray();
        T[] k = RandomData.Uniform(random, p.KeyElements, 2f).Select(narrow).ToArray();
        T[] v = RandomData.Uniform(random, p.KeyElements).Select(narrow).ToArray();
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q.Select(widen).ToArray(), k.Select(widen).ToArray(), v.Select(widen).ToArray());

        using var qt = Tensor.FromArray<T>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<T>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<T>(device, v, p.KeyShape);
        using var ot = Tensor.Create<T>(device, p.QueryShape);
        using var lt = hasLse ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        ot.Fill(nan);
        lt?.Fill(float.NaN);

        run(qt, kt, vt, ot, lt);
        device.Synchronize();

        return AttentionHarness.Evaluate(p, ot.ToArray().Select(widen).ToArray(), lt?.ToArray(), expected, expectedLse);
    }
}

using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Attention.Kernels.Tests.Mods;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Weights;

/// <summary>
/// <see cref="AttentionWeights.Slice{TKernel}(Tensor{float}, Tensor{float}, Tensor{float}, int, int, ModTensorArgs)"/> against the fp64 softmax of the reference (same masks and modifiers, in fp64):
/// the log-sum-exp comes from a real launch of the kernel, on the CPU backend and on ILGPU's CPU accelerator.
/// </summary>
public sealed class AttentionWeightsTests(ITestOutputHelper log)
{
    /// <summary>A kernel under test: its case (launch, constants, fp64 modifiers) and the slice through its struct.</summary>
    public sealed record WeightCase(KernelCase Kernel, Func<Tensor<float>, Tensor<float>, Tensor<float>, int, int, float[,]> Slice);

    private static WeightCase Case<TKernel>(string name, KernelRunner run, ScoreModFunction? scoreMod = null, MaskModFunction? maskMod = null)
        where TKernel : struct, IAttentionKernel =>
        new(new KernelCase(name, TKernel.HeadDim, TKernel.Heads, TKernel.KvHeads, TKernel.Mask, TKernel.Window, TKernel.Scale,
                TKernel.Layout == KernelLayout.Bthd ? TensorLayout.BTHD : TensorLayout.BHTD, true, run, (_, _, _) => default)
            { ScoreMod = scoreMod, MaskMod = maskMod },
            (q, k, lse, batch, head) => AttentionWeights.Slice<TKernel>(q, k, lse, batch, head));

    private static KernelCase Mod(string name) => ModKernels.All.Single(k => k.Name == name);

    public static readonly WeightCase[] All =
    [
        Case<WeightKernels.NoMaskKernel>(nameof(WeightKernels.NoMask), (q, k, v, o, l) => WeightKernels.NoMask(q, k, v, o, l!)),
        Case<WeightKernels.CausalGqaBhtdKernel>(nameof(WeightKernels.CausalGqaBhtd), (q, k, v, o, l) => WeightKernels.CausalGqaBhtd(q, k, v, o, l!)),
        Case<WeightKernels.CausalTopLeftKernel>(nameof(WeightKernels.CausalTopLeft), (q, k, v, o, l) => WeightKernels.CausalTopLeft(q, k, v, o, l!)),
        Case<WeightKernels.SlidingWindow13Kernel>(nameof(WeightKernels.SlidingWindow13), (q, k, v, o, l) => WeightKernels.SlidingWindow13(q, k, v, o, l!)),
        // Modifiers: a score modifier alone, a mask modifier alone, and both with GQA, BHTD and the causal mask.
        Case<ModKernels.SoftCappedKernel>(nameof(ModKernels.SoftCapped), Mod(nameof(ModKernels.SoftCapped)).Run,
            Mod(nameof(ModKernels.SoftCapped)).ScoreMod),
        Case<ModKernels.DocumentMaskedKernel>(nameof(ModKernels.DocumentMasked), Mod(nameof(ModKernels.DocumentMasked)).Run,
            maskMod: Mod(nameof(ModKernels.DocumentMasked)).MaskMod),
        Case<ModKernels.AlibiDocumentsGqaBhtdKernel>(nameof(ModKernels.AlibiDocumentsGqaBhtd), Mod(nameof(ModKernels.AlibiDocumentsGqaBhtd)).Run,
            Mod(nameof(ModKernels.AlibiDocumentsGqaBhtd)).ScoreMod, Mod(nameof(ModKernels.AlibiDocumentsGqaBhtd)).MaskMod),
    ];

    public static IEnumerable<object[]> CpuCases() =>
        Enumerable.Range(0, 3 * All.Length).Select(i => new object[] { i % All.Length, AttentionHarness.RunSeed + 6151 + i });

    public static IEnumerable<object[]> IlgpuCases() =>
        Enumerable.Range(0, All.Length).Select(i => new object[] { i, AttentionHarness.RunSeed + 12289 + i });

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_slice_matches_fp64_softmax(int caseIndex, int seed) => Check(All[caseIndex], Device.Cpu, seed, maxLength: 200);

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_slice_matches_fp64_softmax(int caseIndex, int seed) =>
        Check(All[caseIndex], IlgpuTestDevice.Instance, seed, IlgpuTestDevice.MaxLength);

    [Fact]
    public void Rows_that_see_no_key_are_zero()
    {
        // Causal bottom-right with Tq = 50 > Tk = 20: the first 30 rows see no key (log-sum-exp −∞).
        var problem = Problem(All[1].Kernel, batch: 2, queryLength: 50, keyLength: 20);
        var weights = Check(All[1], problem, Device.Cpu, AttentionHarness.RunSeed, batch: 1, head: 3);
        for (int i = 0; i < 30; i++)
        for (int j = 0; j < 20; j++)
            Assert.Equal(0f, weights[i, j]);
    }

    [Fact]
    public void A_kernel_without_log_sum_exp_is_refused_by_name()
    {
        using var q = Tensor.Create<float>(Device.Cpu, 1, 5, 4, 8);
        using var k = Tensor.Create<float>(Device.Cpu, 1, 5, 4, 8);
        using var lse = Tensor.Create<float>(Device.Cpu, 1, 4, 5);
        var e = Assert.Throws<InvalidOperationException>(() => AttentionWeights.Slice<TestKernels.D8_H4_Kv4_NoneKernel>(q, k, lse, 0, 0));
        Assert.Contains(nameof(TestKernels.D8_H4_Kv4_NoneKernel), e.Message);
    }

    [Fact]
    public void Batch_head_and_shapes_are_checked_with_named_arguments()
    {
        using var q = Tensor.Create<float>(Device.Cpu, 2, 7, 3, 24);
        using var k = Tensor.Create<float>(Device.Cpu, 2, 9, 3, 24);
        using var lse = Tensor.Create<float>(Device.Cpu, 2, 3, 7);
        using var badLse = Tensor.Create<float>(Device.Cpu, 2, 3, 9);
        var batch = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionWeights.Slice<WeightKernels.NoMaskKernel>(q, k, lse, 2, 0));
        Assert.Equal("batch", batch.ParamName);
        Assert.Contains("[2, 7, 3, 24]", batch.Message);
        var head = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionWeights.Slice<WeightKernels.NoMaskKernel>(q, k, lse, 0, -1));
        Assert.Equal("head", head.ParamName);
        var shape = Assert.Throws<ArgumentException>(() => AttentionWeights.Slice<WeightKernels.NoMaskKernel>(q, k, badLse, 0, 0));
        Assert.Equal("logSumExp", shape.ParamName);
        Assert.Contains("[2, 3, 9]", shape.Message);
        var heads = Assert.Throws<ArgumentException>(() => AttentionWeights.Slice<WeightKernels.NoMaskKernel>(k, q, lse, 0, 0));
        Assert.Equal("logSumExp", heads.ParamName); // q and k swapped: Tq = 9 no longer matches the log-sum-exp
    }

    private void Check(WeightCase weightCase, Device device, int seed, int maxLength)
    {
        var random = new Random(seed);
        var problem = AttentionHarness.RandomProblem(weightCase.Kernel, random, maxLength);
        Check(weightCase, problem, device, seed, random.Next(problem.Batch), random.Next(problem.Heads));
    }

    /// <summary>Launches the kernel for its log-sum-exp, slices (batch, head), compares with the fp64 softmax; returns the slice.</summary>
    private float[,] Check(WeightCase weightCase, AttentionProblem problem, Device device, int seed, int batch, int head)
    {
        var random = new Random(seed);
        float[] q = RandomData.Uniform(random, problem.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, problem.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, problem.KeyElements);
        using var qt = Tensor.FromArray<float>(device, q, problem.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, problem.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, problem.KeyShape);
        using var ot = Tensor.Create<float>(device, problem.QueryShape);
        using var lt = Tensor.Create<float>(device, problem.Batch, problem.Heads, problem.QueryLength);
        lt.Fill(float.NaN);
        weightCase.Kernel.Run(qt, kt, vt, ot, lt);
        device.Synchronize();
        float[,] weights = weightCase.Slice(qt, kt, lt, batch, head);
        Compare(weightCase.Kernel.Name, device, problem, q, k, weights, batch, head);
        return weights;
    }

    [Theory]
    [InlineData("half")]
    [InlineData("bf16")]
    public void Sixteen_bit_storage_slices_match_fp64_softmax_of_the_rounded_inputs(string storage)
    {
        bool half = storage == "half";
        var problem = half
            ? new AttentionProblem(2, 77, 93, 8, 2, 64, AttentionMask.Causal, 0, Storage.StorageKernels.Half_D64_H8_Kv2_Causal_LseKernel.Scale, TensorLayout.BTHD)
            : new AttentionProblem(1, 65, 65, 4, 1, 80, AttentionMask.Causal, 0, Storage.StorageKernels.BF16_D80_H4_Kv1_Causal_BHTD_LseKernel.Scale, TensorLayout.BHTD);
        var random = new Random(AttentionHarness.RunSeed + 31);
        float[] q = RandomData.Uniform(random, problem.QueryElements, 2f), k = RandomData.Uniform(random, problem.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, problem.KeyElements);
        using var lt = Tensor.Create<float>(Device.Cpu, problem.Batch, problem.Heads, problem.QueryLength);
        float[,] weights;
        if (half)
        {
            Half[] qh = [.. q.Select(x => (Half)x)], kh = [.. k.Select(x => (Half)x)], vh = [.. v.Select(x => (Half)x)];
            (q, k) = ([.. qh.Select(x => (float)x)], [.. kh.Select(x => (float)x)]);
            using var qt = Tensor.FromArray<Half>(Device.Cpu, qh, problem.QueryShape);
            using var kt = Tensor.FromArray<Half>(Device.Cpu, kh, problem.KeyShape);
            using var vt = Tensor.FromArray<Half>(Device.Cpu, vh, problem.KeyShape);
            using var ot = Tensor.Create<Half>(Device.Cpu, problem.QueryShape);
            Storage.StorageKernels.Half_D64_H8_Kv2_Causal_Lse(qt, kt, vt, ot, lt);
            weights = AttentionWeights.Slice<Storage.StorageKernels.Half_D64_H8_Kv2_Causal_LseKernel>(qt, kt, lt, 1, 5);
            Compare(storage, Device.Cpu, problem, q, k, weights, 1, 5);
        }
        else
        {
            BFloat16[] qb = [.. q.Select(x => (BFloat16)x)], kb = [.. k.Select(x => (BFloat16)x)], vb = [.. v.Select(x => (BFloat16)x)];
            (q, k) = ([.. qb.Select(x => (float)x)], [.. kb.Select(x => (float)x)]);
            using var qt = Tensor.FromArray<BFloat16>(Device.Cpu, qb, problem.QueryShape);
            using var kt = Tensor.FromArray<BFloat16>(Device.Cpu, kb, problem.KeyShape);
            using var vt = Tensor.FromArray<BFloat16>(Device.Cpu, vb, problem.KeyShape);
            using var ot = Tensor.Create<BFloat16>(Device.Cpu, problem.QueryShape);
            Storage.StorageKernels.BF16_D80_H4_Kv1_Causal_BHTD_Lse(qt, kt, vt, ot, lt);
            weights = AttentionWeights.Slice<Storage.StorageKernels.BF16_D80_H4_Kv1_Causal_BHTD_LseKernel>(qt, kt, lt, 0, 3);
            Compare(storage, Device.Cpu, problem, q, k, weights, 0, 3);
        }
    }

    public static IEnumerable<object[]> ModTensorCases() =>
        from device in new[] { "cpu", "ilgpu" }
        from kernel in new[] { 0, 1 }
        from run in Enumerable.Range(0, device == "cpu" ? 3 : 1)
        select new object[] { device, kernel, AttentionHarness.RunSeed + 1409 + 10 * kernel + run };

    /// <summary>
    /// Kernels whose modifiers read tensors (a relative bias and query/key document ids, GQA; ids with a causal mask, BHTD): the
    /// slice takes the launch's tensors and its modifiers read them on the host, as the kernel did on its device.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModTensorCases))]
    public void Slices_of_kernels_whose_modifiers_read_tensors_match_fp64_softmax(string deviceName, int kernel, int seed)
    {
        Device device = deviceName == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;
        var random = new Random(seed);
        bool biased = kernel == 0;
        var (headDim, heads, kvHeads, mask, scale, layout) = biased
            ? (ModTensorKernels.BiasedCrossDocumentsKernel.HeadDim, ModTensorKernels.BiasedCrossDocumentsKernel.Heads, ModTensorKernels.BiasedCrossDocumentsKernel.KvHeads,
                ModTensorKernels.BiasedCrossDocumentsKernel.Mask, ModTensorKernels.BiasedCrossDocumentsKernel.Scale, TensorLayout.BTHD)
            : (ModTensorKernels.CausalCrossDocumentsBhtdKernel.HeadDim, ModTensorKernels.CausalCrossDocumentsBhtdKernel.Heads, ModTensorKernels.CausalCrossDocumentsBhtdKernel.KvHeads,
                ModTensorKernels.CausalCrossDocumentsBhtdKernel.Mask, ModTensorKernels.CausalCrossDocumentsBhtdKernel.Scale, TensorLayout.BHTD);
        var shape = AttentionHarness.RandomProblem(headDim, heads, kvHeads, mask, 0, scale, layout, random, deviceName == "cpu" ? 200 : IlgpuTestDevice.MaxLength);
        int batch = shape.Batch, queryLength = shape.QueryLength, keyLength = shape.KeyLength;
        // Ids from {0, 1, 2} (a few documents per row), a bias in [−3, 3] per (head, bucket).
        int[] queryIds = [.. Enumerable.Range(0, batch * queryLength).Select(_ => random.Next(3))];
        int[] keyIds = [.. Enumerable.Range(0, batch * keyLength).Select(_ => random.Next(3))];
        float[] bias = RandomData.Uniform(random, heads * ModTensorKernels.Buckets, 3f);
        var problem = shape with
        {
            ScoreMod = biased ? (sc, b, h, i, j) => sc + bias[h * ModTensorKernels.Buckets + ModTensorKernels.Bucket(j - i)] : null,
            MaskMod = (b, h, i, j) => queryIds[b * queryLength + i] == keyIds[b * keyLength + j],
        };
        float[] q = RandomData.Uniform(random, problem.QueryElements, 2f), k = RandomData.Uniform(random, problem.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, problem.KeyElements);
        using var qt = Tensor.FromArray<float>(device, q, problem.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, problem.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, problem.KeyShape);
        using var ot = Tensor.Create<float>(device, problem.QueryShape);
        using var lt = Tensor.Create<float>(device, batch, heads, queryLength);
        using var bt = Tensor.FromArray<float>(device, bias, heads, ModTensorKernels.Buckets);
        using var qi = Tensor.FromArray<int>(device, queryIds, batch, queryLength);
        using var ki = Tensor.FromArray<int>(device, keyIds, batch, keyLength);
        lt.Fill(float.NaN);
        int sliceBatch = random.Next(batch), sliceHead = random.Next(heads);
        float[,] weights;
        if (biased)
        {
            ModTensorKernels.BiasedCrossDocuments(qt, kt, vt, ot, lt, bt, qi, ki);
            weights = AttentionWeights.Slice<ModTensorKernels.BiasedCrossDocumentsKernel>(qt, kt, lt, sliceBatch, sliceHead, new ModTensorArgs(bt, qi, ki));
        }
        else
        {
            ModTensorKernels.CausalCrossDocumentsBhtd(qt, kt, vt, ot, lt, qi, ki);
            weights = AttentionWeights.Slice<ModTensorKernels.CausalCrossDocumentsBhtdKernel>(qt, kt, lt, sliceBatch, sliceHead, new ModTensorArgs(qi, ki));
        }
        Compare(biased ? "BiasedCrossDocuments" : "CausalCrossDocumentsBhtd", device, problem, q, k, weights, sliceBatch, sliceHead);
    }

    /// <summary>Without the launch's tensors a tensor-reading kernel's slice is refused; with a tensor too short, its read throws naming it.</summary>
    [Fact]
    public void Slices_of_kernels_whose_modifiers_read_tensors_check_the_tensors()
    {
        const int T = 6, H = ModTensorKernels.CausalCrossDocumentsBhtdKernel.Heads, D = ModTensorKernels.CausalCrossDocumentsBhtdKernel.HeadDim;
        using var q = Tensor.Create<float>(Device.Cpu, 1, H, T, D);
        using var lse = Tensor.Create<float>(Device.Cpu, 1, H, T);
        q.Fill(0.5f);
        lse.Fill(0f);
        using var ids = Tensor.Create<int>(Device.Cpu, 1, T);
        using var shortIds = Tensor.Create<int>(Device.Cpu, 1, T - 1);
        ids.Fill(0);
        shortIds.Fill(0);
        Assert.Throws<ArgumentException>(() => AttentionWeights.Slice<ModTensorKernels.CausalCrossDocumentsBhtdKernel>(q, q, lse, 0, 1));
        var e = Assert.Throws<IndexOutOfRangeException>(() =>
            AttentionWeights.Slice<ModTensorKernels.CausalCrossDocumentsBhtdKernel>(q, q, lse, 0, 1, new ModTensorArgs(ids, shortIds)));
        log.WriteLine(e.Message);
        Assert.Contains($"modifier tensor 'keyDocuments' (slot 1) of shape [1, {T - 1}] was read at [0, {T - 1}]", e.Message);
    }

    /// <summary>Asserts the slice against the fp64 softmax: exact zeros where hidden, rows summing to 1, relative Frobenius error.</summary>
    private void Compare(string name, Device device, AttentionProblem problem, float[] q, float[] k, float[,] weights, int batch, int head)
    {
                double[] expected = ReferenceAttention.Weights(problem, q, k, batch, head);
        Assert.Equal(problem.QueryLength, weights.GetLength(0));
        Assert.Equal(problem.KeyLength, weights.GetLength(1));
        double diff = 0, norm = 0, worstRowSum = 0;
        for (int i = 0; i < problem.QueryLength; i++)
        {
            bool anyVisible = false;
            double rowSum = 0;
            for (int j = 0; j < problem.KeyLength; j++)
            {
                double p = weights[i, j], r = expected[i * problem.KeyLength + j];
                Assert.False(double.IsNaN(p), $"weight [{i}, {j}] is NaN");
                if (!ReferenceAttention.Visible(problem, batch, head, i, j))
                    Assert.True(p == 0f, $"hidden pair [{i}, {j}] has weight {p}");
                else
                    anyVisible = true;
                diff += (p - r) * (p - r);
                norm += r * r;
                rowSum += p;
            }
            if (anyVisible)
                worstRowSum = Math.Max(worstRowSum, Math.Abs(rowSum - 1));
            else
                Assert.True(rowSum == 0, $"row {i} sees no key but its weights sum to {rowSum}");
        }
        double error = norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
        log.WriteLine($"{name} on {device}, {problem}, b={batch} h={head}: ‖P−ref‖/‖ref‖ = {error:E2}, max |row sum − 1| = {worstRowSum:E2}");
        Assert.True(error <= AttentionHarness.Tolerance, $"{name} {problem} b={batch} h={head}: error {error:E2}");
        Assert.True(worstRowSum <= AttentionHarness.Tolerance, $"{name} {problem} b={batch} h={head}: row sum off by {worstRowSum:E2}");
    }

    private static AttentionProblem Problem(KernelCase kernel, int batch, int queryLength, int keyLength) =>
        new AttentionProblem(batch, queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout)
        { ScoreMod = kernel.ScoreMod, MaskMod = kernel.MaskMod };
}

using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Mods;

/// <summary>
/// Declarations whose modifiers read tensors (docs/kernels/mods.md, "Tensors read by modifiers"): a T5-style relative bias
/// [H, 16 buckets] read by a score modifier, and cross-attention between documents with query and key ids of their own
/// lengths ([B, Tq], [B, Tk]) read by a mask modifier; int and float tensors mixed in one declaration, both layouts, GQA,
/// a built-in mask and soft-capping composed with them.
/// </summary>
public static partial class ModTensorKernels
{
    public const int Buckets = 16;

    [ScaledDotProductAttention(HeadDim = 8, Heads = 4, KvHeads = 2, ScoreMod = nameof(RelativeBias), MaskMod = nameof(CrossDocument))]
    public static partial void BiasedCrossDocuments(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<float> bias, Tensor<int> queryDocuments, Tensor<int> keyDocuments);

    [ScaledDotProductAttention(HeadDim = 16, Heads = 2, Mask = AttentionMask.CausalTopLeft, Layout = TensorLayout.BHTD, MaskMod = nameof(CrossDocument))]
    public static partial void CausalCrossDocumentsBhtd(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<int> queryDocuments, Tensor<int> keyDocuments);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 3, ScoreMod = nameof(RelativeBias), SoftCap = 5)]
    public static partial void RelativeBiasSoftCapped(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
        Tensor<float> bias);

    // 16-bit storage: the modifiers and their tensors are fp32/int as ever; only q, k, v and the output are narrow.
    [ScaledDotProductAttention(HeadDim = 16, Heads = 4, KvHeads = 2, Mask = AttentionMask.CausalTopLeft, ScoreMod = nameof(RelativeBias), MaskMod = nameof(CrossDocument))]
    public static partial void HalfBiasedCrossDocuments(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output, Tensor<float> logSumExp,
        Tensor<float> bias, Tensor<int> queryDocuments, Tensor<int> keyDocuments);

    [ScaledDotProductAttention(HeadDim = 8, Heads = 3, Layout = TensorLayout.BHTD, ScoreMod = nameof(RelativeBias), MaskMod = nameof(CrossDocument))]
    public static partial void BFloat16BiasedCrossDocumentsBhtd(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output, Tensor<float> logSumExp,
        Tensor<float> bias, Tensor<int> queryDocuments, Tensor<int> keyDocuments);

    /// <summary>The bucket of a relative distance key − query: −8…7 clamped, shifted to 0…15.</summary>
    public static int Bucket(int distance) => (distance < -Buckets / 2 ? -Buckets / 2 : distance > Buckets / 2 - 1 ? Buckets / 2 - 1 : distance) + Buckets / 2;

    private static float RelativeBias<TBias>(float score, int batch, int head, int query, int key, TBias bias)
        where TBias : struct, IModTensor<float> =>
        score + bias[head, Bucket(key - query)];

    private static bool CrossDocument<TIds>(int batch, int head, int query, int key, TIds queryDocuments, TIds keyDocuments)
        where TIds : struct, IModTensor<int> =>
        queryDocuments[batch, query] == keyDocuments[batch, key];
}

/// <summary>
/// The tensor-reading modifiers against the fp64 reference, whose modifiers read the very same arrays: random odd sizes
/// (Tq ≠ Tk), empty sequences, NaN-poisoned outputs, on the CPU backend and ILGPU's CPU accelerator; and a relaunch of one
/// shape with other ids, which must not reuse the first launch's block classes.
/// </summary>
public sealed class ModTensorTests(ITestOutputHelper log)
{
    private enum Kind { BiasedCrossDocuments, CausalCrossDocumentsBhtd, RelativeBiasSoftCapped }

    private static (int HeadDim, int Heads, int KvHeads, AttentionMask Mask, float Scale, TensorLayout Layout) Constants(Kind kind) => kind switch
    {
        Kind.BiasedCrossDocuments => (ModTensorKernels.BiasedCrossDocumentsKernel.HeadDim, ModTensorKernels.BiasedCrossDocumentsKernel.Heads,
            ModTensorKernels.BiasedCrossDocumentsKernel.KvHeads, ModTensorKernels.BiasedCrossDocumentsKernel.Mask, ModTensorKernels.BiasedCrossDocumentsKernel.Scale, TensorLayout.BTHD),
        Kind.CausalCrossDocumentsBhtd => (ModTensorKernels.CausalCrossDocumentsBhtdKernel.HeadDim, ModTensorKernels.CausalCrossDocumentsBhtdKernel.Heads,
            ModTensorKernels.CausalCrossDocumentsBhtdKernel.KvHeads, ModTensorKernels.CausalCrossDocumentsBhtdKernel.Mask, ModTensorKernels.CausalCrossDocumentsBhtdKernel.Scale, TensorLayout.BHTD),
        _ => (ModTensorKernels.RelativeBiasSoftCappedKernel.HeadDim, ModTensorKernels.RelativeBiasSoftCappedKernel.Heads,
            ModTensorKernels.RelativeBiasSoftCappedKernel.KvHeads, ModTensorKernels.RelativeBiasSoftCappedKernel.Mask, ModTensorKernels.RelativeBiasSoftCappedKernel.Scale, TensorLayout.BTHD),
    };

    public static IEnumerable<object[]> Cases(int runs, int salt) =>
        Enumerable.Range(0, runs * 3).Select(i => new object[] { (int)(i % 3), AttentionHarness.RunSeed + salt + i });

    public static IEnumerable<object[]> CpuCases() => Cases(6, 4409);

    public static IEnumerable<object[]> IlgpuCases() => Cases(1, 7717);

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    /// <summary>Ids from a small set, in runs of random lengths (so blocks come out empty, full and partial).</summary>
    private static int[] RandomIds(Random random, int batch, int length)
    {
        var ids = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            int id = random.Next(3), left = 0;
            for (int t = 0; t < length; t++)
            {
                if (left-- <= 0)
                {
                    id = random.Next(3);
                    left = random.Next(1, Math.Max(2, length / 3));
                }
                ids[b * length + t] = id;
            }
        }
        return ids;
    }

    private AttentionCheck Run(Kind kind, Device device, Random random, int batch, int queryLength, int keyLength, int[]? queryIds = null, int[]? keyIds = null)
    {
        var c = Constants(kind);
        bool documents = kind != Kind.RelativeBiasSoftCapped, biased = kind != Kind.CausalCrossDocumentsBhtd;
        queryIds ??= RandomIds(random, batch, queryLength);
        keyIds ??= RandomIds(random, batch, keyLength);
        float[] bias = RandomData.Uniform(random, c.Heads * ModTensorKernels.Buckets, 3f);
        // The reference's modifiers read the same arrays the kernel's tensors are made of.
        ScoreModFunction? score = null;
        if (biased)
        {
            score = (s, b, h, i, j) => s + bias[h * ModTensorKernels.Buckets + ModTensorKernels.Bucket(j - i)];
            if (kind == Kind.RelativeBiasSoftCapped)
            {
                var inner = score;
                score = (s, b, h, i, j) => 5.0 * Math.Tanh(inner(s, b, h, i, j) / 5.0);
            }
        }
        MaskModFunction? mask = documents ? (b, h, i, j) => queryIds[b * queryLength + i] == keyIds[b * keyLength + j] : null;
        var p = new AttentionProblem(batch, queryLength, keyLength, c.Heads, c.KvHeads, c.HeadDim, c.Mask, 0, c.Scale, c.Layout) { ScoreMod = score, MaskMod = mask };
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v);

        using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
        using var ot = Tensor.Create<float>(device, p.QueryShape);
        using var lt = Tensor.Create<float>(device, batch, c.Heads, queryLength);
        using var bt = Tensor.FromArray<float>(device, bias, c.Heads, ModTensorKernels.Buckets);
        using var qi = Tensor.FromArray<int>(device, queryIds, batch, queryLength);
        using var ki = Tensor.FromArray<int>(device, keyIds, batch, keyLength);
        ot.Fill(float.NaN);
        lt.Fill(float.NaN);
        switch (kind)
        {
            case Kind.BiasedCrossDocuments:
                ModTensorKernels.BiasedCrossDocuments(qt, kt, vt, ot, lt, bt, qi, ki);
                break;
            case Kind.CausalCrossDocumentsBhtd:
                ModTensorKernels.CausalCrossDocumentsBhtd(qt, kt, vt, ot, lt, qi, ki);
                break;
            default:
                ModTensorKernels.RelativeBiasSoftCapped(qt, kt, vt, ot, lt, bt);
                break;
        }
        device.Synchronize();
        var check = AttentionHarness.Evaluate(p, ot.ToArray(), lt.ToArray(), expected, expectedLse);
        log.WriteLine($"{kind} B{batch} Tq{queryLength} Tk{keyLength} on {device}: {check}");
        return check;
    }

    private AttentionCheck RunRandom(Kind kind, Device device, int seed, int maxLength)
    {
        var random = new Random(seed);
        var c = Constants(kind);
        var shape = AttentionHarness.RandomProblem(c.HeadDim, c.Heads, c.KvHeads, c.Mask, 0, c.Scale, c.Layout, random, maxLength);
        return Run(kind, device, random, shape.Batch, shape.QueryLength, shape.KeyLength);
    }

    private static void AssertGood(AttentionCheck check)
    {
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_random_problem_matches_fp64_reference(int kind, int seed) =>
        AssertGood(RunRandom((Kind)kind, Device.Cpu, seed, 300));

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_random_problem_matches_fp64_reference(int kind, int seed) =>
        AssertGood(RunRandom((Kind)kind, IlgpuTestDevice.Instance, seed, IlgpuTestDevice.MaxLength));

    [Theory]
    [MemberData(nameof(Devices))]
    public void Empty_sequences_and_odd_cross_lengths_match_fp64_reference(string name)
    {
        var device = DeviceNamed(name);
        var random = new Random(AttentionHarness.RunSeed + 31);
        foreach (var kind in Enum.GetValues<Kind>())
        {
            AssertGood(Run(kind, device, random, 2, 5, 0));
            AssertGood(Run(kind, device, random, 2, 0, 7));
            AssertGood(Run(kind, device, random, 1, 37, 71));
        }
    }

    [Fact]
    public void A_relaunch_with_other_ids_reclassifies_its_blocks()
    {
        // Same launch shape twice (several tiles and key blocks): first every id equal (every block full), then ids that
        // split each block. A block class cached from the first launch would let the second see keys of other documents.
        const int B = 2, T = 150;
        var random = new Random(AttentionHarness.RunSeed + 5);
        foreach (var kind in new[] { Kind.BiasedCrossDocuments, Kind.CausalCrossDocumentsBhtd })
        {
            AssertGood(Run(kind, Device.Cpu, random, B, T, T, new int[B * T], new int[B * T]));
            int[] split = [.. Enumerable.Range(0, B * T).Select(t => t % 3 == 0 ? 1 : 0)];
            AssertGood(Run(kind, Device.Cpu, random, B, T, T, split, split));
        }
    }

    private delegate void SixteenBitLaunch<T>(Tensor<T> q, Tensor<T> k, Tensor<T> v, Tensor<T> output, Tensor<float> logSumExp,
        Tensor<float> bias, Tensor<int> queryDocuments, Tensor<int> keyDocuments) where T : unmanaged;

    /// <summary>
    /// A 16-bit kernel whose modifiers read a bias and query/key ids, on a random problem, against the fp64 reference of the
    /// rounded inputs (<see cref="Storage.StorageHarness"/>: NaN-poisoned outputs), within the storage's bound
    /// (<see cref="Storage.StorageKernelCase.Tolerance"/>: one rounding of each output).
    /// </summary>
    private void RunSixteenBit<T>(Storage.StorageKernelCase kernel, SixteenBitLaunch<T> launch, Device device, int seed, int maxLength,
        Func<float, T> narrow, Func<T, float> widen, T nan) where T : unmanaged
    {
        var random = new Random(seed);
        var shape = kernel.RandomProblem(random, maxLength);
        int batch = shape.Batch, queryLength = shape.QueryLength, keyLength = shape.KeyLength;
        int[] queryIds = RandomIds(random, batch, queryLength), keyIds = RandomIds(random, batch, keyLength);
        float[] bias = RandomData.Uniform(random, kernel.Heads * ModTensorKernels.Buckets, 3f);
        var p = shape with
        {
            ScoreMod = (s, b, h, i, j) => s + bias[h * ModTensorKernels.Buckets + ModTensorKernels.Bucket(j - i)],
            MaskMod = (b, h, i, j) => queryIds[b * queryLength + i] == keyIds[b * keyLength + j],
        };
        using var bt = Tensor.FromArray<float>(device, bias, kernel.Heads, ModTensorKernels.Buckets);
        using var qi = Tensor.FromArray<int>(device, queryIds, batch, queryLength);
        using var ki = Tensor.FromArray<int>(device, keyIds, batch, keyLength);
        var check = Storage.StorageHarness.Run<T>((q, k, v, o, l) => launch(q, k, v, o, l!, bt, qi, ki), hasLse: true, p, device, random, narrow, widen, nan);
        log.WriteLine($"{kernel.Name} B{batch} Tq{queryLength} Tk{keyLength} on {device}: {check} (bound {kernel.Tolerance:E2})");
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= kernel.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }

    private static readonly Storage.StorageKernelCase HalfCase = Storage.StorageKernelCase.Half(nameof(ModTensorKernels.HalfBiasedCrossDocuments),
        ModTensorKernels.HalfBiasedCrossDocumentsKernel.HeadDim, ModTensorKernels.HalfBiasedCrossDocumentsKernel.Heads, ModTensorKernels.HalfBiasedCrossDocumentsKernel.KvHeads,
        ModTensorKernels.HalfBiasedCrossDocumentsKernel.Mask, 0, ModTensorKernels.HalfBiasedCrossDocumentsKernel.Scale, ModTensorKernels.HalfBiasedCrossDocumentsKernel.Layout,
        true, (_, _, _, _, _) => throw new NotSupportedException("run through RunSixteenBit"));

    private static readonly Storage.StorageKernelCase BFloat16Case = Storage.StorageKernelCase.BFloat16(nameof(ModTensorKernels.BFloat16BiasedCrossDocumentsBhtd),
        ModTensorKernels.BFloat16BiasedCrossDocumentsBhtdKernel.HeadDim, ModTensorKernels.BFloat16BiasedCrossDocumentsBhtdKernel.Heads,
        ModTensorKernels.BFloat16BiasedCrossDocumentsBhtdKernel.KvHeads, ModTensorKernels.BFloat16BiasedCrossDocumentsBhtdKernel.Mask, 0,
        ModTensorKernels.BFloat16BiasedCrossDocumentsBhtdKernel.Scale, ModTensorKernels.BFloat16BiasedCrossDocumentsBhtdKernel.Layout,
        true, (_, _, _, _, _) => throw new NotSupportedException("run through RunSixteenBit"));

    public static IEnumerable<object[]> SixteenBitCases() =>
        from device in new[] { "cpu", "ilgpu" }
        from run in Enumerable.Range(0, device == "cpu" ? 4 : 1)
        select new object[] { device, AttentionHarness.RunSeed + 911 + run };

    [Theory]
    [MemberData(nameof(SixteenBitCases))]
    public void Fp16_kernel_with_tensor_reading_mods_matches_fp64_reference(string name, int seed) =>
        RunSixteenBit<Half>(HalfCase, ModTensorKernels.HalfBiasedCrossDocuments, DeviceNamed(name), seed, name == "cpu" ? 300 : IlgpuTestDevice.MaxLength,
            f => (Half)f, h => (float)h, Half.NaN);

    [Theory]
    [MemberData(nameof(SixteenBitCases))]
    public void Bf16_kernel_with_tensor_reading_mods_matches_fp64_reference(string name, int seed) =>
        RunSixteenBit<BFloat16>(BFloat16Case, ModTensorKernels.BFloat16BiasedCrossDocumentsBhtd, DeviceNamed(name), seed, name == "cpu" ? 300 : IlgpuTestDevice.MaxLength,
            f => (BFloat16)f, b => (float)b, BFloat16.NaN);

    /// <summary>
    /// A modifier indexing past a tensor is an error naming the tensor, its shape and the index, on both backends: query ids
    /// one row short ([1, Tq − 1]: only query Tq − 1 reads past it, so the index is known), then a bias one bucket short
    /// ([H, 15]: bucket 15 is read by some head). A correct launch afterwards still runs (the ILGPU record is cleared).
    /// </summary>
    [Theory]
    [MemberData(nameof(Devices))]
    public void A_modifier_reading_past_its_tensor_throws_naming_the_tensor_and_shapes(string name)
    {
        var device = DeviceNamed(name);
        const int Tq = 9, Tk = 20, Heads = ModTensorKernels.BiasedCrossDocumentsKernel.Heads, KvHeads = ModTensorKernels.BiasedCrossDocumentsKernel.KvHeads, D = ModTensorKernels.BiasedCrossDocumentsKernel.HeadDim;
        using var q = Tensor.Create<float>(device, 1, Tq, Heads, D);
        using var k = Tensor.Create<float>(device, 1, Tk, KvHeads, D);
        using var o = Tensor.Create<float>(device, 1, Tq, Heads, D);
        using var lse = Tensor.Create<float>(device, 1, Heads, Tq);
        q.Fill(0.5f);
        k.Fill(0.25f);
        using var bias = Tensor.Create<float>(device, Heads, ModTensorKernels.Buckets);
        using var shortBias = Tensor.Create<float>(device, Heads, ModTensorKernels.Buckets - 1);
        using var queryIds = Tensor.Create<int>(device, 1, Tq);
        using var shortQueryIds = Tensor.Create<int>(device, 1, Tq - 1);
        using var keyIds = Tensor.Create<int>(device, 1, Tk);
        foreach (var t in new[] { bias, shortBias })
            t.Fill(0f);
        foreach (var t in new[] { queryIds, shortQueryIds, keyIds })
            t.Fill(0);

        var e = Assert.Throws<IndexOutOfRangeException>(() =>
        {
            ModTensorKernels.BiasedCrossDocuments(q, k, k, o, lse, bias, shortQueryIds, keyIds);
            device.Synchronize();
        });
        log.WriteLine(e.Message);
        Assert.Contains($"BiasedCrossDocumentsKernel: modifier tensor 'queryDocuments' (slot 1) of shape [1, {Tq - 1}] was read at [0, {Tq - 1}]", e.Message);

        e = Assert.Throws<IndexOutOfRangeException>(() =>
        {
            ModTensorKernels.BiasedCrossDocuments(q, k, k, o, lse, shortBias, queryIds, keyIds);
            device.Synchronize();
        });
        log.WriteLine(e.Message);
        Assert.Contains($"modifier tensor 'bias' (slot 0) of shape [{Heads}, {ModTensorKernels.Buckets - 1}] was read at [", e.Message);
        Assert.Contains($", {ModTensorKernels.Buckets - 1}]", e.Message);

        // The right tensors: no error, and the output is the reference's (every id equal, bias zero: plain attention).
        o.Fill(float.NaN);
        ModTensorKernels.BiasedCrossDocuments(q, k, k, o, lse, bias, queryIds, keyIds);
        device.Synchronize();
        Assert.All(o.ToArray(), x => Assert.Equal(0.25f, x, 1e-6f));
    }

    /// <summary>The CPU accessor's three indexers and its axes: in range they read row-major, outside they throw with the label.</summary>
    [Fact]
    public unsafe void The_cpu_accessor_checks_every_indexer()
    {
        int[] data = [.. Enumerable.Range(0, 2 * 3 * 4)];
        fixed (int* p = data)
        {
            var t = new Cpu.CpuModTensor<int>(p, 2, 3, 4);
            Assert.Equal(23, t[23]);
            Assert.Equal(1 * 12 + 2 * 4 + 3, t[1, 2, 3]);
            Assert.Equal(1 * 3 + 2, new Cpu.CpuModTensor<int>(p, 2, 3, 1)[1, 2]);
            Assert.Equal((2, 3, 4, 1), (t.Dim(0), t.Dim(1), t.Dim(2), t.Dim(3)));
            var m = new Cpu.CpuModTensor<int>(p, 2, 3, 1);
            Assert.Contains("A modifier tensor (axes [2, 3, 4]) was read at [24]", Assert.Throws<Cpu.ModTensorReadException>(() => t[24]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 4]) was read at [-1]", Assert.Throws<Cpu.ModTensorReadException>(() => t[-1]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 1]) was read at [2, 0]", Assert.Throws<Cpu.ModTensorReadException>(() => m[2, 0]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 1]) was read at [0, 3]", Assert.Throws<Cpu.ModTensorReadException>(() => m[0, 3]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 1]) was read at [0, -1]", Assert.Throws<Cpu.ModTensorReadException>(() => m[0, -1]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 4]) was read at [0, 0, 4]", Assert.Throws<Cpu.ModTensorReadException>(() => t[0, 0, 4]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 4]) was read at [0, 3, 0]", Assert.Throws<Cpu.ModTensorReadException>(() => t[0, 3, 0]).Message);
            Assert.Contains("A modifier tensor (axes [2, 3, 4]) was read at [2, 0, 0]", Assert.Throws<Cpu.ModTensorReadException>(() => t[2, 0, 0]).Message);
        }
    }

    [Fact]
    public void A_launch_with_the_wrong_modifier_tensors_is_refused()
    {
        using var q = Tensor.Create<float>(Device.Cpu, 1, 3, 3, 8);
        using var o = Tensor.Create<float>(Device.Cpu, 1, 3, 3, 8);
        using var ids = Tensor.Create<int>(Device.Cpu, 3, 16);
        var launch = new AttentionLaunch<float>(q, q, q, o, null, 1, 3, 3);
        // No tensors, an int tensor where the bias is a float one, and a gap before slot 1.
        Assert.Throws<ArgumentException>(() => launch.ExpectInputsFor<ModTensorKernels.RelativeBiasSoftCappedKernel>());
        Assert.Throws<ArgumentException>(() => (launch with { ModTensors = new ModTensorArgs(ids) }).ExpectInputsFor<ModTensorKernels.RelativeBiasSoftCappedKernel>());
        Assert.Throws<ArgumentException>(() => (launch with { ModTensors = new ModTensorArgs(null, ids) }).ExpectInputsFor<ModTensorKernels.RelativeBiasSoftCappedKernel>());
    }
}

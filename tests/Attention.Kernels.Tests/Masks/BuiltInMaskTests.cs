using Attention.Kernels.Reference;
using Attention.Kernels.Tests.Ilgpu;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Masks;

/// <summary>
/// The built-in document mask (<c>documentIds</c>) and prefix-LM mask (<c>prefixLengths</c>) against the fp64 reference, on
/// the CPU backend and ILGPU's CPU accelerator: random odd sizes, random ids (contiguous documents of random lengths, one
/// document, every position its own, arbitrary unsorted ids), random prefixes (0, Tk, anything between), outputs poisoned
/// with NaN, and K/V past each key length poisoned with NaN. The reference states each rule on its own, as a mask function
/// of (batch, query, key), independently of the kernels.
/// </summary>
public sealed class BuiltInMaskTests(ITestOutputHelper log)
{
    private const int CpuMaxLength = 200;

    public static IEnumerable<object[]> Cases(int runs, int salt) =>
        Enumerable.Range(0, runs * BuiltInMaskKernels.All.Length).Select(i => new object[] { i % BuiltInMaskKernels.All.Length, AttentionHarness.RunSeed + salt + i });

    public static IEnumerable<object[]> CpuCases() => Cases(5, 6151);

    public static IEnumerable<object[]> IlgpuCases() => Cases(2, 9973);

    public static IEnumerable<object[]> Devices() => [["cpu"], ["ilgpu"]];

    private static Device DeviceNamed(string name) => name == "cpu" ? Device.Cpu : IlgpuTestDevice.Instance;

    /// <summary>Document ids [B, T] in one of several styles.</summary>
    internal static int[] RandomDocuments(Random random, int batch, int length)
    {
        var ids = new int[batch * length];
        for (int b = 0; b < batch; b++)
        {
            var row = ids.AsSpan(b * length, length);
            switch (random.Next(5))
            {
                case 0: // one document
                    row.Fill(random.Next(-3, 3));
                    break;
                case 1: // arbitrary, unsorted ids from a small set (documents interleave)
                    for (int t = 0; t < length; t++)
                        row[t] = random.Next(3);
                    break;
                case 2: // every position its own document
                    for (int t = 0; t < length; t++)
                        row[t] = t;
                    break;
                default: // contiguous documents of random lengths (1 included), ids increasing
                    int id = random.Next(-2, 2), left = 0;
                    for (int t = 0; t < length; t++)
                    {
                        if (left-- <= 0)
                        {
                            id += random.Next(1, 3);
                            left = random.Next(3) == 0 ? 0 : random.Next(1, Math.Max(2, length / 2));
                        }
                        row[t] = id;
                    }
                    break;
            }
        }
        return ids;
    }

    private static int[] RandomLengths(Random random, int batch, int max) =>
        [.. Enumerable.Range(0, batch).Select(_ => random.Next(5) switch
        {
            0 => 0,
            1 => max,
            2 => Math.Min(1, max),
            _ => random.Next(max + 1),
        })];

    /// <summary>
    /// The reference problem: the case's mask and modifiers, the key padding, and the built-in masks written out as a mask
    /// function ANDed with the case's own mask modifier.
    /// </summary>
    private static AttentionProblem Problem(BuiltInMaskCase c, int batch, int queryLength, int keyLength, int[]? documents, int[]? prefixes, int[]? lengths)
    {
        var kernel = c.Kernel;
        var userMask = kernel.MaskMod;
        int length = keyLength;
        MaskModFunction mask = (b, h, i, j) =>
            (documents is null || documents[b * length + i] == documents[b * length + j]) &&
            (prefixes is null || j < prefixes[b] || j <= i) &&
            (userMask is null || userMask(b, h, i, j));
        return new AttentionProblem(batch, queryLength, keyLength, kernel.Heads, kernel.KvHeads, kernel.HeadDim, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout)
        { ScoreMod = kernel.ScoreMod, MaskMod = mask, KeyLengths = lengths };
    }

    private AttentionCheck Run(BuiltInMaskCase c, AttentionProblem p, int[]? documents, int[]? prefixes, Device device, Random random)
    {
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v);
        if (p.KeyLengths is { } keyLengths)
        {
            for (int b = 0; b < p.Batch; b++)
            for (int j = keyLengths[b]; j < p.KeyLength; j++)
            for (int h = 0; h < p.KvHeads; h++)
            for (int d = 0; d < p.HeadDim; d++)
            {
                long at = p.Index(b, j, h, d, p.KvHeads, p.KeyLength);
                k[at] = v[at] = float.NaN; // padding: never read
            }
        }
        using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
        using var ot = Tensor.Create<float>(device, p.QueryShape);
        using var lt = c.Kernel.HasLogSumExp ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        using var lengths = p.KeyLengths is null ? null : Tensor.FromArray<int>(device, p.KeyLengths, p.Batch);
        using var ids = documents is null ? null : Tensor.FromArray<int>(device, documents, p.Batch, p.KeyLength);
        using var prefixLengths = prefixes is null ? null : Tensor.FromArray<int>(device, prefixes, p.Batch);
        ot.Fill(float.NaN);
        lt?.Fill(float.NaN);
        c.Run(qt, kt, vt, ot, lt, lengths, ids, prefixLengths);
        device.Synchronize();
        var check = AttentionHarness.Evaluate(p, ot.ToArray(), lt?.ToArray(), expected, expectedLse);
        log.WriteLine($"{c} on {device}: {check}" + (prefixes is null ? "" : $" prefixes=[{string.Join(",", prefixes)}]"));
        return check;
    }

    private AttentionCheck RunRandom(BuiltInMaskCase c, Device device, int seed, int maxLength)
    {
        var random = new Random(seed);
        var shape = AttentionHarness.RandomProblem(c.Kernel, random, maxLength);
        int queryLength = shape.QueryLength, keyLength = c.Documents ? queryLength : shape.KeyLength; // documents: self-attention
        int[]? documents = c.Documents ? RandomDocuments(random, shape.Batch, keyLength) : null;
        int[]? prefixes = c.Prefix ? RandomLengths(random, shape.Batch, keyLength) : null;
        int[]? lengths = c.Padding ? RandomLengths(random, shape.Batch, keyLength) : null;
        return Run(c, Problem(c, shape.Batch, queryLength, keyLength, documents, prefixes, lengths), documents, prefixes, device, random);
    }

    private static void AssertGood(AttentionCheck check)
    {
        Assert.True(check.Defect is null, check.ToString());
        Assert.True(check.OutputError <= AttentionHarness.Tolerance, check.ToString());
        Assert.True(check.LogSumExpError <= AttentionHarness.Tolerance, check.ToString());
    }

    public static IEnumerable<object[]> CostCases() => Cases(6, 4421);

    [Theory]
    [MemberData(nameof(CostCases))]
    public void Data_aware_cost_counts_exactly_the_pairs_the_reference_shows(int kernelIndex, int seed)
    {
        // Random odd sizes, ids, prefixes and key lengths; the count is the fp64 reference's own visibility rule (mask, padding,
        // ids, prefix) summed pair by pair. A mask modifier is not part of the count (Cost does not evaluate it: an upper bound).
        var c = BuiltInMaskKernels.All[kernelIndex];
        var random = new Random(seed);
        var shape = AttentionHarness.RandomProblem(c.Kernel, random, CpuMaxLength);
        int queryLength = shape.QueryLength, keyLength = c.Documents ? queryLength : shape.KeyLength;
        int[]? documents = c.Documents ? RandomDocuments(random, shape.Batch, keyLength) : null;
        int[]? prefixes = c.Prefix ? RandomLengths(random, shape.Batch, keyLength) : null;
        int[]? lengths = c.Padding ? RandomLengths(random, shape.Batch, keyLength) : null;
        var p = Problem(c with { Kernel = c.Kernel with { MaskMod = null } }, shape.Batch, queryLength, keyLength, documents, prefixes, lengths);
        double pairs = 0;
        for (int b = 0; b < p.Batch; b++)
        for (int i = 0; i < queryLength; i++)
        for (int j = 0; j < keyLength; j++)
            pairs += ReferenceAttention.Visible(p, b, 0, i, j) ? 1 : 0;

        using var ids = documents is null ? null : Tensor.FromArray<int>(Device.Cpu, documents, p.Batch, keyLength);
        using var prefixLengths = prefixes is null ? null : Tensor.FromArray<int>(Device.Cpu, prefixes, p.Batch);
        using var keyLengths = lengths is null ? null : Tensor.FromArray<int>(Device.Cpu, lengths, p.Batch);
        var exact = c.DataCost(p.Batch, queryLength, keyLength, keyLengths, ids, prefixLengths);
        var bound = c.Kernel.Cost(p.Batch, queryLength, keyLength);
        log.WriteLine($"{c}: B{p.Batch} Tq{queryLength} Tk{keyLength}: {pairs} visible pairs per head, shape-only bound {bound.Flops / (4.0 * c.Kernel.Heads * c.Kernel.HeadDim)}");
        Assert.Equal(4.0 * c.Kernel.Heads * c.Kernel.HeadDim * pairs, exact.Flops);
        Assert.Equal(bound.BytesMoved, exact.BytesMoved);
        Assert.Equal(bound.ScratchBytes, exact.ScratchBytes);
        Assert.True(exact.Flops <= bound.Flops, "the shape-only Cost is an upper bound");
    }

    [Fact]
    public void Data_aware_cost_names_a_tensor_of_the_wrong_shape()
    {
        using var ids = Tensor.FromArray<int>(Device.Cpu, [0, 0, 1, 1, 1, 2], 2, 3);
        var e = Assert.Throws<ArgumentException>(() => BuiltInMaskKernels.DocumentsKernel.Cost(2, 4, 4, ids));
        Assert.Equal("documentIds", e.ParamName);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Theory]
    [MemberData(nameof(CpuCases))]
    public void Cpu_random_problem_matches_fp64_reference(int kernelIndex, int seed) =>
        AssertGood(RunRandom(BuiltInMaskKernels.All[kernelIndex], Device.Cpu, seed, CpuMaxLength));

    [Theory]
    [MemberData(nameof(IlgpuCases))]
    public void Ilgpu_random_problem_matches_fp64_reference(int kernelIndex, int seed) =>
        AssertGood(RunRandom(BuiltInMaskKernels.All[kernelIndex], IlgpuTestDevice.Instance, seed, IlgpuTestDevice.MaxLength));

    [Theory]
    [MemberData(nameof(Devices))]
    public void Fixed_edge_cases_match_fp64_reference(string name)
    {
        // Several tiles and key blocks (T = 150 > 2·64) with contiguous documents that straddle block edges, a document of
        // one position, an entry whose ids interleave; prefixes 0, T and one inside a block; key lengths 0, T and odd.
        var device = DeviceNamed(name);
        const int T = 150;
        int[] documents = new int[3 * T];
        for (int t = 0; t < T; t++)
        {
            documents[t] = t < 70 ? 0 : t == 70 ? 1 : t < 129 ? 2 : 3;
            documents[T + t] = t % 2;
            documents[2 * T + t] = 7;
        }
        int[] prefixes = [0, T, 77];
        int[] lengths = [T, 0, 101];
        foreach (var c in BuiltInMaskKernels.All)
        {
            var p = Problem(c, 3, T, T, c.Documents ? documents : null, c.Prefix ? prefixes : null, c.Padding ? lengths : null);
            AssertGood(Run(c, p, c.Documents ? documents : null, c.Prefix ? prefixes : null, device, new Random(AttentionHarness.RunSeed)));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Prefix_lm_decode_lengths_take_the_row_path(int queryLength)
    {
        // Tq ≤ RowModeMaxQueries: the prefix-LM kernels without modifiers run per row; prefixes 0, 1, inside and all of Tk.
        foreach (var c in BuiltInMaskKernels.All.Where(c => c.Prefix && !c.Documents))
        {
            int[] prefixes = [0, 1, 90, 157];
            int[]? lengths = c.Padding ? [157, 157, 60, 0] : null;
            AssertGood(Run(c, Problem(c, 4, queryLength, 157, null, prefixes, lengths), null, prefixes, Device.Cpu, new Random(AttentionHarness.RunSeed + queryLength)));
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Prefix_lm_with_more_queries_than_keys_is_aligned_top_left(string name)
    {
        // Tq = 37 > Tk = 20: query i ≥ 19 sees every key, query 0 sees key 0 and the prefix.
        var c = BuiltInMaskKernels.All.Single(c => c.Kernel.Name == nameof(BuiltInMaskKernels.PrefixLm));
        int[] prefixes = [5, 0];
        AssertGood(Run(c, Problem(c, 2, 37, 20, null, prefixes, null), null, prefixes, DeviceNamed(name), new Random(AttentionHarness.RunSeed)));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Empty_sequences_write_nothing_and_do_not_throw(string name)
    {
        var device = DeviceNamed(name);
        foreach (var c in BuiltInMaskKernels.All)
        {
            int[]? documents = c.Documents ? [] : null;
            int[]? prefixes = c.Prefix ? [0, 0] : null;
            int[]? lengths = c.Padding ? [0, 0] : null;
            AssertGood(Run(c, Problem(c, 2, 0, 0, documents, prefixes, lengths), documents, prefixes, device, new Random(AttentionHarness.RunSeed)));
        }
    }

    [Fact]
    public void Document_blocks_are_classified_from_id_ranges()
    {
        unsafe
        {
            int[] keys = [4, 4, 5, 6];
            fixed (int* k = keys)
            {
                Assert.Equal(Cpu.FlashAttentionCpu.BlockEmpty, Cpu.FlashAttentionCpu.ClassifyDocuments(k, 4, 7, 9));
                Assert.Equal(Cpu.FlashAttentionCpu.BlockEmpty, Cpu.FlashAttentionCpu.ClassifyDocuments(k, 4, 1, 3));
                Assert.Equal(Cpu.FlashAttentionCpu.BlockPartial, Cpu.FlashAttentionCpu.ClassifyDocuments(k, 4, 6, 6));
                Assert.Equal(Cpu.FlashAttentionCpu.BlockFull, Cpu.FlashAttentionCpu.ClassifyDocuments(k, 2, 4, 4));
                Assert.Equal(Cpu.FlashAttentionCpu.BlockPartial, Cpu.FlashAttentionCpu.ClassifyDocuments(k, 2, 3, 4));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Wrong_shapes_and_values_throw_naming_the_tensor(string name)
    {
        var device = DeviceNamed(name);
        using var q = Tensor.Create<float>(device, 2, 5, 4, 16);
        using var k7 = Tensor.Create<float>(device, 2, 7, 2, 16);
        using var k5 = Tensor.Create<float>(device, 2, 5, 2, 16);
        using var o = Tensor.Create<float>(device, 2, 5, 4, 16);
        using var lse = Tensor.Create<float>(device, 2, 4, 5);
        using var ids = Tensor.Create<int>(device, 2, 5);
        var crossError = Assert.Throws<ArgumentException>(() => BuiltInMaskKernels.Documents(q, k7, k7, o, lse, ids));
        Assert.Equal("documentIds", crossError.ParamName);
        Assert.Contains("Tq = 5", crossError.Message);
        Assert.Contains("Tk = 7", crossError.Message);
        using var wrongIds = Tensor.Create<int>(device, 2, 6);
        var shapeError = Assert.Throws<ArgumentException>(() => BuiltInMaskKernels.Documents(q, k5, k5, o, lse, wrongIds));
        Assert.Equal("documentIds", shapeError.ParamName);
        Assert.Contains("[B, T] = [2, 5], but has [2, 6]", shapeError.Message);

        using var q3 = Tensor.Create<float>(device, 2, 5, 3, 16);
        using var k3 = Tensor.Create<float>(device, 2, 9, 3, 16);
        using var o3 = Tensor.Create<float>(device, 2, 5, 3, 16);
        using var lse3 = Tensor.Create<float>(device, 2, 3, 5);
        using var tooLong = Tensor.FromArray<int>(device, [3, 10], 2);
        var rangeError = Assert.Throws<ArgumentOutOfRangeException>(() => BuiltInMaskKernels.PrefixLm(q3, k3, k3, o3, lse3, tooLong));
        Assert.Equal("prefixLengths", rangeError.ParamName);
        Assert.Contains("prefixLengths[1] = 10 is outside 0..9", rangeError.Message);
        using var wrongCount = Tensor.FromArray<int>(device, [1, 2, 3], 3);
        Assert.Equal("prefixLengths", Assert.Throws<ArgumentException>(() => BuiltInMaskKernels.PrefixLm(q3, k3, k3, o3, lse3, wrongCount)).ParamName);
    }

    [Fact]
    public void Launches_without_the_declared_tensors_are_refused_by_every_backend()
    {
        using var q = Tensor.Create<float>(Device.Cpu, 1, 3, 4, 16);
        using var o = Tensor.Create<float>(Device.Cpu, 1, 3, 4, 16);
        var launch = new AttentionLaunch<float>(q, q, q, o, null, 1, 3, 3);
        Assert.Contains("DocumentIds", Assert.Throws<ArgumentException>(() => launch.ExpectInputsFor<BuiltInMaskKernels.DocumentsKernel>()).Message);
        Assert.Contains("PrefixLengths", Assert.Throws<ArgumentException>(() => launch.ExpectInputsFor<BuiltInMaskKernels.PrefixLmKernel>()).Message);
        using var ids = Tensor.Create<int>(Device.Cpu, 1, 3);
        Assert.Contains("no built-in document mask", Assert.Throws<ArgumentException>(() =>
            (launch with { DocumentIds = ids }).ExpectInputsFor<TestKernels.D8_H4_Kv4_NoneKernel>()).Message);
    }
}

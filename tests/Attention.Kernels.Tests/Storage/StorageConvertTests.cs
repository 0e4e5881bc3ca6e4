using System.Runtime.InteropServices;
using Xunit;

namespace Attention.Kernels.Tests.Storage;

/// <summary>
/// The span conversions the CPU backend uses (SIMD and scalar tail) are bit-for-bit the scalar conversions of
/// <see cref="Half"/> and <see cref="BFloat16"/>: ties to even, ∞ on overflow, NaN kept NaN, subnormals both ways.
/// </summary>
public sealed class StorageConvertTests
{
    /// <summary>
    /// Floats that probe every rounding boundary of a 16-bit format whose values are <paramref name="values"/>: each value,
    /// the midpoint to its upper neighbour (a tie), and the floats one ulp either side of that midpoint, with both signs;
    /// plus float specials, float subnormals and random bit patterns. Length is odd so the scalar tail runs too.
    /// </summary>
    internal static float[] Probes(IEnumerable<float> values)
    {
        var sorted = values.Where(float.IsFinite).Where(v => v >= 0).Distinct().Order().ToArray();
        var probes = new List<float>();
        for (int i = 0; i < sorted.Length; i++)
        {
            float value = sorted[i];
            probes.Add(value);
            double next = i + 1 < sorted.Length ? sorted[i + 1] : 2.0 * sorted[i] - sorted[i - 1]; // past the largest: the overflow tie
            float mid = (float)((value + next) / 2); // exact: 16-bit neighbours' midpoint fits a float
            probes.Add(mid);
            probes.Add(MathF.BitDecrement(mid));
            probes.Add(MathF.BitIncrement(mid));
        }
        probes.AddRange(probes.Select(p => -p).ToArray());
        probes.AddRange([float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN, float.MaxValue, float.MinValue,
            float.Epsilon, -float.Epsilon, 1e-40f, 65504f, 65519.99f, 65520f, 65536f, 1e9f]);
        probes.Add(BitConverter.UInt32BitsToSingle(0x7F80_0001)); // signalling NaN, payload only in the low bits
        probes.Add(BitConverter.UInt32BitsToSingle(0xFFBF_FFFF)); // negative signalling NaN with a full payload
        probes.Add(BitConverter.UInt32BitsToSingle(0x7FFF_FFFF));
        var random = new Random(2024);
        for (int i = 0; i < 100_001; i++)
            probes.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        if (probes.Count % 2 == 0)
            probes.Add(0.1f);
        return probes.ToArray();
    }

    internal static IEnumerable<float> AllHalfValues() =>
        Enumerable.Range(0, 1 << 16).Select(b => (float)BitConverter.UInt16BitsToHalf((ushort)b));

    internal static IEnumerable<float> AllBFloat16Values() =>
        Enumerable.Range(0, 1 << 16).Select(b => (float)BFloat16.FromBits((ushort)b));

    [Fact]
    public void Half_widening_is_exact_for_every_bit_pattern()
    {
        var halves = Enumerable.Range(0, 1 << 16).Select(b => BitConverter.UInt16BitsToHalf((ushort)b)).Append(Half.One).ToArray();
        var widened = new float[halves.Length];
        StorageConvert.ToSingle(halves, widened);
        for (int i = 0; i < halves.Length; i++)
            Assert.True(BitConverter.SingleToUInt32Bits((float)halves[i]) == BitConverter.SingleToUInt32Bits(widened[i]),
                $"fp16 0x{BitConverter.HalfToUInt16Bits(halves[i]):X4}: scalar {(float)halves[i]}, span {widened[i]}");
    }

    [Fact]
    public void BFloat16_widening_is_exact_for_every_bit_pattern()
    {
        var values = Enumerable.Range(0, 1 << 16).Select(b => BFloat16.FromBits((ushort)b)).Append(BFloat16.One).ToArray();
        var widened = new float[values.Length];
        StorageConvert.ToSingle(values, widened);
        for (int i = 0; i < values.Length; i++)
            Assert.Equal((uint)values[i].RawValue << 16, BitConverter.SingleToUInt32Bits(widened[i]));
    }

    [Fact]
    public void Half_narrowing_matches_the_scalar_conversion_at_every_rounding_boundary()
    {
        float[] probes = Probes(AllHalfValues());
        var narrowed = new Half[probes.Length];
        StorageConvert.ToHalf(probes, narrowed);
        for (int i = 0; i < probes.Length; i++)
        {
            ushort expected = BitConverter.HalfToUInt16Bits((Half)probes[i]), actual = BitConverter.HalfToUInt16Bits(narrowed[i]);
            Assert.True(expected == actual, $"float 0x{BitConverter.SingleToUInt32Bits(probes[i]):X8} ({probes[i]:R}): scalar 0x{expected:X4}, span 0x{actual:X4}");
        }
    }

    [Fact]
    public void BFloat16_narrowing_matches_the_scalar_conversion_at_every_rounding_boundary()
    {
        float[] probes = Probes(AllBFloat16Values());
        var narrowed = new BFloat16[probes.Length];
        StorageConvert.ToBFloat16(probes, narrowed);
        for (int i = 0; i < probes.Length; i++)
        {
            ushort expected = ((BFloat16)probes[i]).RawValue, actual = narrowed[i].RawValue;
            Assert.True(expected == actual, $"float 0x{BitConverter.SingleToUInt32Bits(probes[i]):X8} ({probes[i]:R}): scalar 0x{expected:X4}, span 0x{actual:X4}");
        }
    }

    [Theory]
    [InlineData(0x3F80_1000u, (ushort)0x3C00)]  // 1 + 2^-11: tie between 1 and 1 + 2^-10, kept part even: down to 1
    [InlineData(0x3F80_3000u, (ushort)0x3C02)]  // 1 + 3·2^-11: tie, kept part odd: up to even
    [InlineData(0x3F80_1001u, (ushort)0x3C01)]  // just above the tie: up
    [InlineData(0x477F_E000u, (ushort)0x7BFF)]  // 65504: largest finite
    [InlineData(0x477F_EFFFu, (ushort)0x7BFF)]  // just below 65520: down to 65504
    [InlineData(0x477F_F000u, (ushort)0x7C00)]  // 65520, the overflow tie: to +∞
    [InlineData(0x3380_0000u, (ushort)0x0001)]  // 2^-24: smallest subnormal
    [InlineData(0x3300_0000u, (ushort)0x0000)]  // 2^-25: tie between 0 and the smallest subnormal: to even (0)
    [InlineData(0x33C0_0000u, (ushort)0x0002)]  // 3·2^-25: tie between 1 and 2 subnormal ulps: to even (2)
    [InlineData(0x3340_0000u, (ushort)0x0001)]  // 1.5·2^-25 = 0.75 ulp: up to the smallest subnormal
    [InlineData(0x3300_0001u, (ushort)0x0001)]  // just above 2^-25: up
    [InlineData(0x387F_E000u, (ushort)0x0400)]  // 2^-14·(1 − 2^-11): the subnormal/normal tie rounds up to the smallest normal
    [InlineData(0x8000_0000u, (ushort)0x8000)]  // −0
    [InlineData(0xFF80_0000u, (ushort)0xFC00)]  // −∞
    public void Half_narrowing_examples(uint floatBits, ushort expected)
    {
        var source = Enumerable.Repeat(BitConverter.UInt32BitsToSingle(floatBits), 17).ToArray(); // 16 through SIMD, 1 through the tail
        var destination = new Half[source.Length];
        StorageConvert.ToHalf(source, destination);
        Assert.All(destination, h => Assert.Equal(expected, BitConverter.HalfToUInt16Bits(h)));
        Assert.Equal(expected, BitConverter.HalfToUInt16Bits((Half)source[0]));
    }

    [Fact]
    public void NaN_stays_NaN_both_ways_never_infinity()
    {
        float[] nans = [float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F80_0001), BitConverter.UInt32BitsToSingle(0xFF80_0001),
            BitConverter.UInt32BitsToSingle(0x7FBF_FFFF), BitConverter.UInt32BitsToSingle(0x7FC0_0001)];
        var source = Enumerable.Range(0, 33).Select(i => nans[i % nans.Length]).ToArray();
        var halves = new Half[source.Length];
        var bf16 = new BFloat16[source.Length];
        StorageConvert.ToHalf(source, halves);
        StorageConvert.ToBFloat16(source, bf16);
        Assert.All(halves, h => Assert.True(Half.IsNaN(h)));
        Assert.All(bf16, b => Assert.True(BFloat16.IsNaN(b)));
        var back = new float[source.Length];
        StorageConvert.ToSingle(halves, back);
        Assert.All(back, f => Assert.True(float.IsNaN(f)));
        StorageConvert.ToSingle(bf16, back);
        Assert.All(back, f => Assert.True(float.IsNaN(f)));
        for (int i = 0; i < source.Length; i++) // the sign survives
            Assert.Equal(BitConverter.SingleToUInt32Bits(source[i]) >> 31, BitConverter.SingleToUInt32Bits(back[i]) >> 31);
    }

    [Fact]
    public void Every_non_NaN_16_bit_value_round_trips_exactly()
    {
        var halves = Enumerable.Range(0, 1 << 16).Select(b => BitConverter.UInt16BitsToHalf((ushort)b)).Where(h => !Half.IsNaN(h)).ToArray();
        var wide = new float[halves.Length];
        var again = new Half[halves.Length];
        StorageConvert.ToSingle(halves, wide);
        StorageConvert.ToHalf(wide, again);
        Assert.Equal(MemoryMarshal.Cast<Half, ushort>(halves).ToArray(), MemoryMarshal.Cast<Half, ushort>(again).ToArray());

        var bf = Enumerable.Range(0, 1 << 16).Select(b => BFloat16.FromBits((ushort)b)).Where(b => !BFloat16.IsNaN(b)).ToArray();
        var bfWide = new float[bf.Length];
        var bfAgain = new BFloat16[bf.Length];
        StorageConvert.ToSingle(bf, bfWide);
        StorageConvert.ToBFloat16(bfWide, bfAgain);
        Assert.Equal(bf.Select(b => b.RawValue), bfAgain.Select(b => b.RawValue));
    }

    [Fact]
    public void Lengths_must_match()
    {
        Assert.Throws<ArgumentException>(() => StorageConvert.ToHalf(new float[3], new Half[2]));
        Assert.Throws<ArgumentException>(() => StorageConvert.ToSingle(new BFloat16[3], new float[4]));
    }
}

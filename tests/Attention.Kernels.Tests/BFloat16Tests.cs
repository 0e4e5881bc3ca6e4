using Xunit;
using System.Globalization;

namespace Attention.Kernels.Tests;

/// <summary>bfloat16 rounding is bit-exact (ties to even, NaN, ∞, subnormals), and fp16/bf16 tensors round-trip on the host.</summary>
public sealed class BFloat16Tests
{
    [Theory]
    [InlineData(0x3F80_0000u, (ushort)0x3F80)] // 1.0 exact
    [InlineData(0x3F80_7FFFu, (ushort)0x3F80)] // just below the tie: down
    [InlineData(0x3F80_8000u, (ushort)0x3F80)] // tie, kept part even: stays
    [InlineData(0x3F80_8001u, (ushort)0x3F81)] // just above the tie: up
    [InlineData(0x3F81_8000u, (ushort)0x3F82)] // tie, kept part odd: up to even
    [InlineData(0xBF81_8000u, (ushort)0xBF82)] // same, negative
    [InlineData(0x3FFF_8000u, (ushort)0x4000)] // tie carries into the exponent (1.9961 → 2)
    [InlineData(0x0000_0000u, (ushort)0x0000)] // +0
    [InlineData(0x8000_0000u, (ushort)0x8000)] // −0 keeps its sign
    [InlineData(0x0001_0000u, (ushort)0x0001)] // smallest subnormal, exact
    [InlineData(0x0000_8000u, (ushort)0x0000)] // tie between 0 and the smallest subnormal: to even (0)
    [InlineData(0x0001_8000u, (ushort)0x0002)] // tie, odd: up
    [InlineData(0x0000_0001u, (ushort)0x0000)] // float subnormal far below: 0
    [InlineData(0x7F7F_7FFFu, (ushort)0x7F7F)] // below the tie at the top: largest finite
    [InlineData(0x7F7F_8000u, (ushort)0x7F80)] // tie at the top, odd: overflows to +∞
    [InlineData(0x7F7F_FFFFu, (ushort)0x7F80)] // float.MaxValue → +∞
    [InlineData(0xFF7F_FFFFu, (ushort)0xFF80)] // float.MinValue → −∞
    [InlineData(0x7F80_0000u, (ushort)0x7F80)] // +∞
    [InlineData(0xFF80_0000u, (ushort)0xFF80)] // −∞
    [InlineData(0x7FC0_0000u, (ushort)0x7FC0)] // quiet NaN
    [InlineData(0xFFC0_0000u, (ushort)0xFFC0)] // negative quiet NaN keeps its sign
    [InlineData(0x7F80_0001u, (ushort)0x7FC0)] // signalling NaN whose payload is only in the low bits: still NaN, not ∞
    [InlineData(0x7FFF_FFFFu, (ushort)0x7FFF)] // NaN with full payload: no carry into the sign
    [InlineData(0x4049_0FDBu, (ushort)0x4049)] // π → 3.140625
    public void Float_rounds_to_nearest_even(uint floatBits, ushort expected)
    {
        var value = (BFloat16)BitConverter.UInt32BitsToSingle(floatBits);
        Assert.Equal(expected, value.RawValue);
    }

    [Fact]
    public void Every_bfloat16_round_trips_through_float_exactly()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var value = BFloat16.FromBits((ushort)bits);
            float f = value;
            Assert.Equal((uint)bits << 16, BitConverter.SingleToUInt32Bits(f));
            var back = (BFloat16)f;
            if (BFloat16.IsNaN(value))
                Assert.True(BFloat16.IsNaN(back));
            else
                Assert.Equal((ushort)bits, back.RawValue);
        }
    }

    [Fact]
    public void Rounding_matches_a_wide_reference_on_random_floats()
    {
        // Reference: pick the nearer of the two bfloat16 neighbours in double arithmetic, ties to the even one.
        var random = new Random(7);
        for (int i = 0; i < 200_000; i++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            float f = BitConverter.UInt32BitsToSingle(bits);
            if (!float.IsFinite(f))
                continue;
            ushort down = (ushort)(bits >> 16);
            ushort up = (ushort)(down + 1);
            double lo = BFloat16.FromBits(down), hi = BFloat16.FromBits(up);
            if ((up & 0x7FFF) == 0x7F80)
                hi = Math.CopySign(Math.Pow(2, 128), f); // rounding past the largest finite value is judged against 2^128
            double dLo = Math.Abs(f - lo), dHi = Math.Abs(hi - f);
            ushort expected = dLo < dHi ? down : dHi < dLo ? up : (down & 1) == 0 ? down : up;
            Assert.Equal(expected, ((BFloat16)f).RawValue);
        }
    }

    [Fact]
    public void Classification_equality_and_ordering_follow_float()
    {
        Assert.True(BFloat16.IsNaN(BFloat16.NaN));
        Assert.True(BFloat16.IsInfinity(BFloat16.PositiveInfinity));
        Assert.True(BFloat16.IsInfinity(BFloat16.NegativeInfinity));
        Assert.True(BFloat16.IsFinite(BFloat16.MaxValue));
        Assert.False(BFloat16.NaN == BFloat16.NaN);
        Assert.True(BFloat16.NaN.Equals(BFloat16.NaN));
        Assert.True(BFloat16.Zero == BFloat16.FromBits(0x8000));
        Assert.Equal(BFloat16.Zero.GetHashCode(), BFloat16.FromBits(0x8000).GetHashCode());
        Assert.True(BFloat16.One < (BFloat16)2f);
        Assert.Equal(-1, BFloat16.One.CompareTo((BFloat16)2f));
        Assert.Equal(3.3895313892515355e38, (double)BFloat16.MaxValue);
        Assert.Equal(Math.Pow(2, -133), (double)BFloat16.Epsilon);
        Assert.Equal((BFloat16)0.5f, (BFloat16)(Half)0.5f);
        Assert.Equal((Half)0.5f, (Half)(BFloat16)0.5f);
    }

    [Theory]
    [InlineData(1.5f, "1.5")]
    [InlineData(3.14159265f, "3.14")]
    [InlineData(-0.1f, "-0.1")]
    [InlineData(1e30f, "1E+30")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    public void ToString_is_the_shortest_text_that_reads_back(float value, string expected)
    {
        var bf = (BFloat16)value;
        Assert.Equal(expected, bf.ToString());
        if (float.IsFinite(value))
            Assert.Equal(bf.RawValue, ((BFloat16)float.Parse(bf.ToString(), CultureInfo.InvariantCulture)).RawValue);
    }

    [Fact]
    public void Every_half_round_trips_through_float_exactly()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var value = BitConverter.UInt16BitsToHalf((ushort)bits);
            var back = (Half)(float)value;
            if (Half.IsNaN(value))
                Assert.True(Half.IsNaN(back));
            else
                Assert.Equal((ushort)bits, BitConverter.HalfToUInt16Bits(back));
        }
    }

    [Fact]
    public void Half_and_bfloat16_tensors_round_trip_and_fill_on_the_host()
    {
        Half[] halves = [(Half)1.5f, (Half)(-2f), Half.MaxValue, Half.Epsilon, Half.NegativeInfinity];
        using (var t = Tensor.FromArray<Half>(Device.Cpu, halves, 5))
        {
            Assert.Equal(halves, t.ToArray());
            t.Fill((Half)0.25f);
            Assert.All(t.ToArray(), h => Assert.Equal((Half)0.25f, h));
        }
        BFloat16[] bf = [(BFloat16)1.5f, (BFloat16)(-2f), BFloat16.MaxValue, BFloat16.Epsilon, BFloat16.NaN];
        using (var t = Tensor.FromArray<BFloat16>(Device.Cpu, bf, 5))
        {
            Assert.Equal(bf.Select(b => b.RawValue), t.ToArray().Select(b => b.RawValue));
            t.Fill((BFloat16)0.25f);
            Assert.All(t.ToArray(), b => Assert.Equal(0x3E80, b.RawValue));
        }
    }
}

using System.Runtime.Intrinsics;
using Attention.Kernels.Cpu;
using Xunit;

namespace Attention.Kernels.Tests.Storage;

/// <summary>
/// The kernels' in-register widening (<see cref="CpuElements"/>: both vector widths, the span form with its scalar tail) is
/// bit-for-bit the scalar conversion of <see cref="Half"/> and <see cref="BFloat16"/> for every bit pattern: zeros, subnormals,
/// ∞, NaNs (quieted, payload kept) and both signs. CI runs this suite with AVX-512 off and with no hardware intrinsics too.
/// </summary>
public sealed unsafe class CpuElementsTests
{
    [Fact]
    public void Half_widening_in_registers_is_exact_for_every_bit_pattern() =>
        CheckEveryPattern(b => BitConverter.UInt16BitsToHalf(b), h => (float)h);

    [Fact]
    public void BFloat16_widening_in_registers_is_exact_for_every_bit_pattern() =>
        CheckEveryPattern(BFloat16.FromBits, b => b);

    private static void CheckEveryPattern<T>(Func<ushort, T> fromBits, Func<T, float> scalar) where T : unmanaged
    {
        const int count = (1 << 16) + 5; // every pattern, then a tail past the last whole vector
        var elements = new T[count];
        for (int i = 0; i < count; i++)
            elements[i] = fromBits((ushort)(i & 0xFFFF));
        var widened = new float[count];
        fixed (T* source = elements)
        fixed (float* destination = widened)
        {
            CpuElements.Widen(source, destination, count);
            for (int i = 0; i < count; i++)
                Assert.True(Bits(scalar(elements[i])) == Bits(widened[i]), $"0x{i & 0xFFFF:X4}: scalar {scalar(elements[i])}, span {widened[i]}");
            for (int i = 0; i + 16 <= count; i += 16)
            {
                var wide = CpuElements.Load<Vector512<float>, T>(source + i);
                var narrow = CpuElements.Load<Vector256<float>, T>(source + i);
                for (int lane = 0; lane < 16; lane++)
                    Assert.True(Bits(scalar(elements[i + lane])) == Bits(wide[lane]), $"512-bit 0x{i + lane:X4}: {wide[lane]}");
                for (int lane = 0; lane < 8; lane++)
                    Assert.True(Bits(scalar(elements[i + lane])) == Bits(narrow[lane]), $"256-bit 0x{i + lane:X4}: {narrow[lane]}");
            }
        }
        for (int i = 0; i < 1 << 16; i++)
            Assert.True(Bits(scalar(elements[i])) == Bits(CpuElements.ToSingle(elements[i])), $"scalar 0x{i:X4}");
    }

    [Fact]
    public void Half_pair_widening_is_exact_for_every_bit_pattern() =>
        CheckEveryPair(b => BitConverter.UInt16BitsToHalf(b), h => (float)h);

    [Fact]
    public void BFloat16_pair_widening_is_exact_for_every_bit_pattern() =>
        CheckEveryPair(BFloat16.FromBits, b => b);

    /// <summary>LoadPairs at both widths: lane i of even is element 2i, of odd element 2i + 1, bit for bit.</summary>
    private static void CheckEveryPair<T>(Func<ushort, T> fromBits, Func<T, float> scalar) where T : unmanaged
    {
        var elements = new T[1 << 16];
        for (int i = 0; i < elements.Length; i++)
            elements[i] = fromBits((ushort)i);
        fixed (T* source = elements)
        {
            for (int i = 0; i < elements.Length; i += 32)
            {
                CpuElements.LoadPairs(source + i, out Vector512<float> even, out Vector512<float> odd);
                for (int lane = 0; lane < 16; lane++)
                {
                    Assert.True(Bits(scalar(elements[i + 2 * lane])) == Bits(even[lane]), $"512-bit even 0x{i + 2 * lane:X4}: {even[lane]}");
                    Assert.True(Bits(scalar(elements[i + 2 * lane + 1])) == Bits(odd[lane]), $"512-bit odd 0x{i + 2 * lane + 1:X4}: {odd[lane]}");
                }
            }
            for (int i = 0; i < elements.Length; i += 16)
            {
                CpuElements.LoadPairs(source + i, out Vector256<float> even, out Vector256<float> odd);
                for (int lane = 0; lane < 8; lane++)
                {
                    Assert.True(Bits(scalar(elements[i + 2 * lane])) == Bits(even[lane]), $"256-bit even 0x{i + 2 * lane:X4}: {even[lane]}");
                    Assert.True(Bits(scalar(elements[i + 2 * lane + 1])) == Bits(odd[lane]), $"256-bit odd 0x{i + 2 * lane + 1:X4}: {odd[lane]}");
                }
            }
        }
    }

    [Fact]
    public void Scaled_fp16_pairs_are_every_finite_element_times_2_to_the_minus_112_and_flag_every_infinity_and_NaN()
    {
        // Every pattern once in the low and once in the high half of a lane (the patterns, then the patterns shifted by one),
        // each vector's record started at zero: it must say "special" exactly when one of its elements has exponent 31.
        var elements = new Half[(1 << 16) + 32];
        for (int i = 0; i < elements.Length; i++)
            elements[i] = BitConverter.UInt16BitsToHalf((ushort)((i < 1 << 16 ? i : i - 1) & 0xFFFF));
        fixed (Half* source = elements)
            foreach (int start in new[] { 0, 1 })
                for (int i = start; i + 32 <= elements.Length; i += 32)
                {
                    Vector512<float> wideSpecial = default;
                    Vector256<float> narrowSpecial = default, narrowSpecialHigh = default;
                    CpuElements.LoadHalfPairsScaled(source + i, out Vector512<float> even, out Vector512<float> odd, ref wideSpecial);
                    CpuElements.LoadHalfPairsScaled(source + i, out Vector256<float> even8, out Vector256<float> odd8, ref narrowSpecial);
                    CpuElements.LoadHalfPairsScaled(source + i + 16, out Vector256<float> _, out Vector256<float> _, ref narrowSpecialHigh);
                    for (int lane = 0; lane < 16; lane++)
                    {
                        CheckScaled(elements[i + 2 * lane], even[lane], "512-bit even");
                        CheckScaled(elements[i + 2 * lane + 1], odd[lane], "512-bit odd");
                    }
                    for (int lane = 0; lane < 8; lane++)
                    {
                        CheckScaled(elements[i + 2 * lane], even8[lane], "256-bit even");
                        CheckScaled(elements[i + 2 * lane + 1], odd8[lane], "256-bit odd");
                    }
                    bool Special(int from, int count) => elements.AsSpan(from, count).ToArray().Any(h => Half.IsNaN(h) || Half.IsInfinity(h));
                    Assert.Equal(Special(i, 32), CpuElements.SawSpecialHalf(wideSpecial));
                    Assert.Equal(Special(i, 16), CpuElements.SawSpecialHalf(narrowSpecial));
                    Assert.Equal(Special(i + 16, 16), CpuElements.SawSpecialHalf(narrowSpecialHigh));
                }

        static void CheckScaled(Half element, float scaled, string where)
        {
            if (Half.IsNaN(element) || Half.IsInfinity(element))
                return; // flagged instead (checked above)
            double exact = (double)(float)element;
            Assert.True(Math.ScaleB(scaled, 112) == exact && double.IsNegative(exact) == float.IsNegative(scaled),
                $"{where} 0x{BitConverter.HalfToUInt16Bits(element):X4}: {scaled}·2^112 = {Math.ScaleB(scaled, 112)}, expected {exact}");
        }
    }

    [Theory]
    [InlineData((ushort)0x7C00)] // +∞
    [InlineData((ushort)0xFC00)] // −∞
    [InlineData((ushort)0x7C01)] // signalling NaN, payload in the low bit
    [InlineData((ushort)0xFE00)] // negative quiet NaN
    [InlineData((ushort)0x7BFF)] // largest finite: takes the common path
    public void A_lone_fp16_special_among_finite_values_is_widened_exactly(ushort special)
    {
        // fp16 ∞ and NaN get their exponent widened per lane: a vector of ordinary values with the special in one lane (each
        // lane in turn) must widen exactly in every lane, at both widths.
        var elements = new Half[16];
        fixed (Half* source = elements)
        {
            for (int at = 0; at < 16; at++)
            {
                for (int i = 0; i < 16; i++)
                    elements[i] = i == at ? BitConverter.UInt16BitsToHalf(special) : (Half)(i - 7.5f);
                var wide = CpuElements.Load<Vector512<float>, Half>(source);
                var narrow = CpuElements.Load<Vector256<float>, Half>(source + (at & 8));
                for (int lane = 0; lane < 16; lane++)
                    Assert.True(Bits((float)elements[lane]) == Bits(wide[lane]), $"512-bit lane {lane}, special at {at}: {wide[lane]}");
                for (int lane = 0; lane < 8; lane++)
                    Assert.True(Bits((float)elements[(at & 8) + lane]) == Bits(narrow[lane]), $"256-bit lane {lane}, special at {at}: {narrow[lane]}");
            }
        }
    }

    private static uint Bits(float value) => BitConverter.SingleToUInt32Bits(value);
}

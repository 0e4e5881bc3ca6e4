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

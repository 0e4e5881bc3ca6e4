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

    private static uint Bits(float value) => BitConverter.SingleToUInt32Bits(value);
}

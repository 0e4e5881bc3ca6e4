using Attention.Kernels.Ilgpu.Kernels;
using Xunit;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// The accelerator kernels' storage conversions are plain static methods: checked here on the host, bit for bit, against
/// the BCL's Half and the runtime's BFloat16 (the conversions the CPU backend and the tests' references use).
/// </summary>
public sealed class StorageConversionTests
{
    [Fact]
    public void Fp16_bits_widen_exactly_for_every_half()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = Fp16BitsStorage.Load((ushort)bits);
            if (float.IsNaN(expected))
                Assert.True(float.IsNaN(actual), $"0x{bits:X4}");
            else
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(actual));
        }
    }

    [Fact]
    public void Fp16_bits_narrow_like_System_Half_on_ties_extremes_and_random_floats()
    {
        var random = new Random(AttentionHarness.RunSeed);
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, 65536f, 1e9f, float.PositiveInfinity, float.NegativeInfinity,
            float.NaN, float.Epsilon, 5.96e-8f, 2.98e-8f, 2.9802322e-8f, 6.1035156e-5f, 6.1e-5f, 1f + 1f / 2048, 1f + 3f / 2048 };
        // Every half plus and minus half an ulp (the ties) and a quarter ulp.
        for (int bits = 0; bits < 0x7C00; bits += 7)
        {
            float h = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(bits + 1));
            values.AddRange([h, (h + next) / 2, h + (next - h) / 4, -((h + next) / 2)]);
        }
        for (int i = 0; i < 200_000; i++)
            values.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        foreach (float value in values)
        {
            ushort expected = BitConverter.HalfToUInt16Bits((System.Half)value);
            ushort actual = Fp16BitsStorage.Store(value);
            if (float.IsNaN(value))
                Assert.True(System.Half.IsNaN(BitConverter.UInt16BitsToHalf(actual)), $"NaN 0x{BitConverter.SingleToUInt32Bits(value):X8} → 0x{actual:X4}");
            else
                Assert.True(expected == actual, $"{value:R} (0x{BitConverter.SingleToUInt32Bits(value):X8}): expected 0x{expected:X4}, got 0x{actual:X4}");
        }
    }

    [Fact]
    public void Bf16_bits_round_like_the_runtime_BFloat16()
    {
        var random = new Random(AttentionHarness.RunSeed + 1);
        for (int i = 0; i < 200_000; i++)
        {
            float value = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32));
            ushort actual = Bf16Storage.Store(value);
            var expected = (BFloat16)value;
            if (float.IsNaN(value))
                Assert.True(float.IsNaN(Bf16Storage.Load(actual)));
            else
                Assert.Equal((float)expected, Bf16Storage.Load(actual));
        }
    }
}

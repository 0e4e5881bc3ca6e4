using Attention.Kernels.Tests.Storage;
using Xunit;

namespace Attention.Kernels.Tests.OpenCl;

/// <summary>
/// The OpenCL prelude's storage macros on a real driver (GetKernel compiles after DevicePrelude.OpenCl): LOAD_F16/STORE_F16 (vload_half/vstore_half_rte) and
/// LOAD_BF16/STORE_BF16 (bit operations) agree with the host's conversions at every rounding boundary.
/// </summary>
public sealed class OpenClStorageConvertTests
{
    private const string Source = """
        KERNEL void ak_narrow(const GLOBAL float* in, GLOBAL STORAGE_F16* h, GLOBAL STORAGE_BF16* b, int n)
        {
            const int i = GROUP_ID(0) * LOCAL_SIZE(0) + LOCAL_ID(0);
            if (i < n) { STORE_F16(h, i, in[i]); STORE_BF16(b, i, in[i]); }
        }
        KERNEL void ak_widen(const GLOBAL STORAGE_F16* h, const GLOBAL STORAGE_BF16* b, GLOBAL float* hf, GLOBAL float* bf, int n)
        {
            const int i = GROUP_ID(0) * LOCAL_SIZE(0) + LOCAL_ID(0);
            if (i < n) { hf[i] = LOAD_F16(h, i); bf[i] = LOAD_BF16(b, i); }
        }
        """;

    private static long Padded(int n) => (n + 63) / 64 * 64;

    [SkippableFact]
    public void Narrowing_rounds_to_nearest_even_like_the_host()
    {
        var device = OpenClTestDevice.GetOrSkip();
        float[] probes = StorageConvertTests.Probes(StorageConvertTests.AllHalfValues().Concat(StorageConvertTests.AllBFloat16Values()));
        using var input = Tensor.FromArray<float>(device, probes, probes.Length);
        using var halves = Tensor.Create<ushort>(device, probes.Length);
        using var bf16 = Tensor.Create<ushort>(device, probes.Length);
        var kernel = device.GetKernel(Source, "ak_narrow");
        device.Launch(kernel, [Padded(probes.Length)], [64], input.Buffer, halves.Buffer, bf16.Buffer, probes.Length);
        device.Synchronize();
        ushort[] h = halves.ToArray(), b = bf16.ToArray();
        int checkedCount = 0;
        for (int i = 0; i < probes.Length; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(probes[i]);
            Assert.True(((BFloat16)probes[i]).RawValue == b[i], $"bf16 of 0x{bits:X8}: host 0x{((BFloat16)probes[i]).RawValue:X4}, device 0x{b[i]:X4}");
            ushort expected = BitConverter.HalfToUInt16Bits((Half)probes[i]);
            if (float.IsNaN(probes[i]))
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(h[i])), $"fp16 of NaN 0x{bits:X8} is 0x{h[i]:X4}, not a NaN"); // payload is the driver's
            else
                Assert.True(expected == h[i], $"fp16 of 0x{bits:X8} ({probes[i]:R}): host 0x{expected:X4}, device 0x{h[i]:X4}");
            checkedCount++;
        }
        Assert.True(checkedCount > 500_000, $"{checkedCount} probes");
    }

    [SkippableFact]
    public void Widening_is_exact_for_every_bit_pattern()
    {
        var device = OpenClTestDevice.GetOrSkip();
        ushort[] all = Enumerable.Range(0, 1 << 16).Select(i => (ushort)i).ToArray();
        using var halves = Tensor.FromArray<ushort>(device, all, all.Length);
        using var bf16 = Tensor.FromArray<ushort>(device, all, all.Length);
        using var halfOut = Tensor.Create<float>(device, all.Length);
        using var bfOut = Tensor.Create<float>(device, all.Length);
        var kernel = device.GetKernel(Source, "ak_widen");
        device.Launch(kernel, [Padded(all.Length)], [64], halves.Buffer, bf16.Buffer, halfOut.Buffer, bfOut.Buffer, all.Length);
        device.Synchronize();
        float[] hf = halfOut.ToArray(), bf = bfOut.ToArray();
        for (int i = 0; i < all.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(all[i]);
            if (float.IsNaN(expected))
                Assert.True(float.IsNaN(hf[i]), $"fp16 0x{i:X4} → {hf[i]}, expected NaN");
            else
                Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(hf[i]), $"fp16 0x{i:X4}: host {expected:R}, device {hf[i]:R}");
            Assert.Equal((uint)i << 16, BitConverter.SingleToUInt32Bits(bf[i]));
        }
    }
}

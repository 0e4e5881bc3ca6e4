using ILGPU;

namespace Attention.Kernels.Ilgpu.Kernels;

/// <summary>
/// How a kernel reads and writes one storage type: every element is widened to fp32 as it is loaded, and each result is
/// rounded once, to nearest even, as it is stored. Kernels are generic over the storage, so the conversion is inlined.
/// </summary>
/// <typeparam name="TElement">The element type inside the kernel (a GPU-safe stand-in for the tensor's element type).</typeparam>
public interface IStorage<TElement> where TElement : unmanaged
{
    /// <summary>The element as fp32 (exact for every storage type).</summary>
    static abstract float Load(TElement value);

    /// <summary>The fp32 value rounded to the storage type, to nearest even.</summary>
    static abstract TElement Store(float value);
}

/// <summary>fp32 storage: no conversion.</summary>
public readonly struct Fp32Storage : IStorage<float>
{
    /// <inheritdoc />
    public static float Load(float value) => value;

    /// <inheritdoc />
    public static float Store(float value) => value;
}

/// <summary>
/// fp16 storage as ILGPU's <see cref="ILGPU.Half"/> (System.Half cannot be used inside ILGPU kernels; the bits are the
/// same): the hardware conversions (PTX <c>cvt</c>). Needs the accelerator's Float16 capability; see <see cref="Fp16BitsStorage"/>.
/// </summary>
public readonly struct Fp16Storage : IStorage<ILGPU.Half>
{
    /// <inheritdoc />
    public static float Load(ILGPU.Half value) => (float)value;

    /// <inheritdoc />
    public static ILGPU.Half Store(float value) => (ILGPU.Half)value;
}

/// <summary>
/// bfloat16 storage as its 16 bits: the upper half of an fp32. Widening is a shift; narrowing rounds to nearest even by
/// adding 0x7FFF plus the lowest kept bit before truncating, and keeps NaN a (quiet) NaN.
/// </summary>
public readonly struct Bf16Storage : IStorage<ushort>
{
    /// <inheritdoc />
    public static float Load(ushort value) => Interop.IntAsFloat((uint)value << 16);

    /// <inheritdoc />
    public static ushort Store(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return (ushort)((bits >> 16) | 0x0040u); // NaN: keep the sign, force a quiet NaN
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }
}

/// <summary>
/// fp16 storage as its 16 bits, converted in integer arithmetic: for accelerators without the Float16 capability (OpenCL
/// devices without <c>cl_khr_fp16</c>), where ILGPU refuses <see cref="ILGPU.Half"/>. Bit-exact with System.Half: widening
/// is exact (subnormals included); narrowing rounds to nearest even, overflows to ±∞ and keeps NaN a quiet NaN.
/// </summary>
public readonly struct Fp16BitsStorage : IStorage<ushort>
{
    /// <inheritdoc />
    public static float Load(ushort value)
    {
        uint sign = (uint)(value & 0x8000) << 16;
        uint exponent = (uint)(value >> 10) & 0x1Fu;
        uint mantissa = value & 0x3FFu;
        if (exponent == 0)
        {
            // Zero or subnormal: mantissa · 2^-24, exact in fp32.
            float magnitude = (int)mantissa * 5.9604644775390625e-8f; // via int: an unsigned conversion would go through fp64
            return Interop.IntAsFloat(Interop.FloatAsInt(magnitude) | sign);
        }
        if (exponent == 31)
            return Interop.IntAsFloat(sign | 0x7F80_0000u | (mantissa << 13)); // ±∞ or NaN (payload kept)
        return Interop.IntAsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13)); // rebias 15 → 127
    }

    /// <inheritdoc />
    public static ushort Store(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        uint sign = (bits >> 16) & 0x8000u;
        uint magnitude = bits & 0x7FFF_FFFFu;
        if (magnitude >= 0x4780_0000u) // |x| ≥ 65536: beyond every finite half
            return (ushort)(sign | (magnitude > 0x7F80_0000u ? 0x7E00u : 0x7C00u));
        if (magnitude < 0x3880_0000u) // |x| < 2^-14: a half subnormal (or zero)
        {
            // Adding 0.5 puts the half's subnormal ulp (2^-24) at the float's last mantissa bit, so the fp32 addition
            // itself rounds to nearest even; what is left above 0.5 is the half's bits.
            float aligned = Interop.IntAsFloat(magnitude) + 0.5f;
            return (ushort)(sign | (Interop.FloatAsInt(aligned) - 0x3F00_0000u));
        }
        // Normal: rebias the exponent (127 → 15) and round the 13 dropped mantissa bits to nearest even; a carry out of
        // the mantissa correctly bumps the exponent (up to ∞ for 65520 and above).
        uint odd = (magnitude >> 13) & 1u;
        magnitude += 0xC800_0FFFu + odd; // (15 − 127) << 23, plus half an ulp minus one, plus the tie-breaking bit
        return (ushort)(sign | (magnitude >> 13));
    }
}

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

/// <summary>fp16 storage, as ILGPU's <see cref="ILGPU.Half"/> (System.Half cannot be used inside ILGPU kernels; the bits are the same).</summary>
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

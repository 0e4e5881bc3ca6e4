using System.Globalization;

namespace Attention.Kernels;

/// <summary>
/// The bfloat16 storage format (1 sign, 8 exponent, 7 mantissa bits: the upper half of an IEEE-754 <see cref="float"/>),
/// for host-side <see cref="Tensor{T}"/> data that a device kernel reads as <c>__nv_bfloat16</c>. Arithmetic happens in
/// <see cref="float"/>: convert, compute, convert back.
/// </summary>
/// <remarks>
/// <para>float → bfloat16 rounds to nearest, ties to even (as PyTorch, CUDA's <c>__float2bfloat16_rn</c> and x86's
/// <c>VCVTNEPS2BF16</c> do): finite values past the largest bfloat16 become ±∞; a NaN stays a NaN (quiet, sign and
/// upper payload kept), never ∞. bfloat16 → float is exact.</para>
/// <para>Equality follows <see cref="float"/>: <c>==</c> is IEEE (NaN ≠ NaN, +0 = −0); <see cref="Equals(BFloat16)"/>
/// treats every NaN as equal to every NaN, so the type works as a dictionary key.</para>
/// </remarks>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IFormattable
{
    private readonly ushort _bits;

    private BFloat16(ushort bits) => _bits = bits;

    /// <summary>The raw 16 bits.</summary>
    public ushort RawValue => _bits;

    /// <summary>The value with these raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>+0.</summary>
    public static BFloat16 Zero => new(0x0000);

    /// <summary>1.</summary>
    public static BFloat16 One => new(0x3F80);

    /// <summary>+∞.</summary>
    public static BFloat16 PositiveInfinity => new(0x7F80);

    /// <summary>−∞.</summary>
    public static BFloat16 NegativeInfinity => new(0xFF80);

    /// <summary>A quiet NaN.</summary>
    public static BFloat16 NaN => new(0x7FC0);

    /// <summary>The largest finite value, about 3.39e38.</summary>
    public static BFloat16 MaxValue => new(0x7F7F);

    /// <summary>The most negative finite value.</summary>
    public static BFloat16 MinValue => new(0xFF7F);

    /// <summary>The smallest positive (subnormal) value, 2^-133.</summary>
    public static BFloat16 Epsilon => new(0x0001);

    /// <summary>True for any NaN.</summary>
    public static bool IsNaN(BFloat16 value) => (value._bits & 0x7FFF) > 0x7F80;

    /// <summary>True for ±∞.</summary>
    public static bool IsInfinity(BFloat16 value) => (value._bits & 0x7FFF) == 0x7F80;

    /// <summary>True for a value that is neither NaN nor ±∞.</summary>
    public static bool IsFinite(BFloat16 value) => (value._bits & 0x7F80) != 0x7F80;

    /// <summary>Rounds <paramref name="value"/> to the nearest bfloat16, ties to even.</summary>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
            return new((ushort)((bits >> 16) | 0x0040)); // NaN: keep sign and upper payload, force quiet (never becomes ∞)
        // Add half an ulp of the result, minus one unless the kept part is odd: ties go to the even neighbour.
        // A carry out of the mantissa correctly bumps the exponent (and past the largest finite value lands on ∞).
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new((ushort)((bits + rounding) >> 16));
    }

    /// <summary>Rounds <paramref name="value"/> to bfloat16 through <see cref="float"/> (two roundings; exact for values that are floats).</summary>
    public static explicit operator BFloat16(double value) => (BFloat16)(float)value;

    /// <summary>Converts a <see cref="Half"/> (rounds: bfloat16 has fewer mantissa bits).</summary>
    public static explicit operator BFloat16(Half value) => (BFloat16)(float)value;

    /// <summary>The exact <see cref="float"/> value.</summary>
    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value._bits << 16);

    /// <summary>The exact <see cref="double"/> value.</summary>
    public static explicit operator double(BFloat16 value) => (float)value;

    /// <summary>Rounds to <see cref="Half"/> (overflows to ±∞ past 65504, loses range below 2^-24).</summary>
    public static explicit operator Half(BFloat16 value) => (Half)(float)value;

    /// <summary>IEEE equality: NaN ≠ NaN, +0 = −0.</summary>
    public static bool operator ==(BFloat16 left, BFloat16 right) => (float)left == (float)right;

    /// <summary>IEEE inequality.</summary>
    public static bool operator !=(BFloat16 left, BFloat16 right) => (float)left != (float)right;

    /// <summary>IEEE less-than.</summary>
    public static bool operator <(BFloat16 left, BFloat16 right) => (float)left < (float)right;

    /// <summary>IEEE greater-than.</summary>
    public static bool operator >(BFloat16 left, BFloat16 right) => (float)left > (float)right;

    /// <summary>IEEE less-or-equal.</summary>
    public static bool operator <=(BFloat16 left, BFloat16 right) => (float)left <= (float)right;

    /// <summary>IEEE greater-or-equal.</summary>
    public static bool operator >=(BFloat16 left, BFloat16 right) => (float)left >= (float)right;

    /// <summary>Equal values, or both NaN (as <see cref="float.Equals(float)"/>).</summary>
    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => ((float)this).GetHashCode();

    /// <summary>Orders as <see cref="float.CompareTo(float)"/> (NaN first).</summary>
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);

    /// <summary>The shortest decimal text that reads back (through float) as this value, invariant culture.</summary>
    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    /// <summary>Formats the <see cref="float"/> value with <paramref name="format"/>; by default the shortest text that rounds back to this bfloat16.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        float value = this;
        if (!string.IsNullOrEmpty(format) || !float.IsFinite(value))
            return value.ToString(format, formatProvider);
        // Fewest significant digits (bfloat16 needs at most 4) that convert back to the same bits.
        for (int digits = 1; digits < 9; digits++)
        {
            string text = value.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), formatProvider);
            if (float.TryParse(text, NumberStyles.Float, formatProvider, out float parsed) && ((BFloat16)parsed)._bits == _bits)
                return text;
        }
        return value.ToString("R", formatProvider);
    }
}

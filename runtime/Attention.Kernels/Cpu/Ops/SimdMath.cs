using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Width-generic helpers the CPU ops need beyond <see cref="Simd"/>: comparisons and selects, horizontal sums,
/// partial (tail) loads and stores, and the transcendental functions of the epilogues (tanh, erfc, GELU, sigmoid).
/// Same pattern as <see cref="Simd"/>: <c>typeof</c> tests are JIT-time constants.
/// </summary>
internal static unsafe class SimdMath
{
    private const float Log2E = 1.4426950408889634f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Divide<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)((Vector512<float>)(object)a / (Vector512<float>)(object)b);
        return (TVec)(object)((Vector256<float>)(object)a / (Vector256<float>)(object)b);
    }

    /// <summary>
    /// 1/x for finite x ≥ 1, within about an ulp: with AVX-512 the 14-bit estimate (vrcp14ps) refined by one Newton step
    /// (error ~2⁻²⁸ before rounding) instead of a division, which is several times slower per vector; a division otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ReciprocalAtLeastOne<TVec>(TVec x) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>) && Avx512F.IsSupported)
        {
            var v = (Vector512<float>)(object)x;
            var r = Avx512F.Reciprocal14(v);
            return (TVec)(object)Vector512.FusedMultiplyAdd(r, Vector512.FusedMultiplyAdd(-v, r, Vector512<float>.One), r);
        }
        if (typeof(TVec) == typeof(Vector256<float>) && Avx512F.VL.IsSupported)
        {
            var v = (Vector256<float>)(object)x;
            var r = Avx512F.VL.Reciprocal14(v);
            return (TVec)(object)Vector256.FusedMultiplyAdd(r, Vector256.FusedMultiplyAdd(-v, r, Vector256<float>.One), r);
        }
        return Divide(Simd.Broadcast<TVec>(1f), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Abs<TVec>(TVec a) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.Abs((Vector512<float>)(object)a);
        return (TVec)(object)Vector256.Abs((Vector256<float>)(object)a);
    }

    /// <summary>Lanes of <paramref name="ifTrue"/> where a ≥ b, else of <paramref name="ifFalse"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec SelectWhereGreaterOrEqual<TVec>(TVec a, TVec b, TVec ifTrue, TVec ifFalse) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.ConditionalSelect(
                Vector512.GreaterThanOrEqual((Vector512<float>)(object)a, (Vector512<float>)(object)b),
                (Vector512<float>)(object)ifTrue, (Vector512<float>)(object)ifFalse);
        return (TVec)(object)Vector256.ConditionalSelect(
            Vector256.GreaterThanOrEqual((Vector256<float>)(object)a, (Vector256<float>)(object)b),
            (Vector256<float>)(object)ifTrue, (Vector256<float>)(object)ifFalse);
    }

    /// <summary>|magnitude| with the sign bit of <paramref name="sign"/> (magnitude must be ≥ 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec WithSignOf<TVec>(TVec magnitude, TVec sign) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)((Vector512<float>)(object)magnitude | ((Vector512<float>)(object)sign & Vector512.Create(-0f)));
        return (TVec)(object)((Vector256<float>)(object)magnitude | ((Vector256<float>)(object)sign & Vector256.Create(-0f)));
    }

    /// <summary>Sum of the lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum<TVec>(TVec a) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return Vector512.Sum((Vector512<float>)(object)a);
        return Vector256.Sum((Vector256<float>)(object)a);
    }

    /// <summary>The first <paramref name="count"/> (&lt; one vector) floats at <paramref name="source"/>, other lanes = <paramref name="fill"/>. Never reads past the end.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static TVec LoadTail<TVec>(float* source, int count, float fill = 0f) where TVec : struct
    {
        float* lanes = stackalloc float[16];
        for (int i = 0; i < 16; i++)
            lanes[i] = i < count ? source[i] : fill;
        return Simd.Load<TVec>(lanes);
    }

    /// <summary>Stores the first <paramref name="count"/> (&lt; one vector) lanes. Never writes past the end.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void StoreTail<TVec>(TVec value, float* destination, int count) where TVec : struct
    {
        float* lanes = stackalloc float[16];
        Simd.Store(value, lanes);
        for (int i = 0; i < count; i++)
            destination[i] = lanes[i];
    }

    /// <summary>e^x for x ≤ 0 (through <see cref="Simd.Exp2{TVec}"/>, relative error ~2e-7; 0 at x ≤ −105, with AVX2 already at x ≤ −88).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ExpNonPositive<TVec>(TVec x) where TVec : struct =>
        Simd.Exp2(Simd.Multiply(x, Simd.Broadcast<TVec>(Log2E)));

    /// <summary>tanh x = sign(x)·(1 − e)/(1 + e), e = e^(−2|x|) ≤ 1 (no overflow; absolute error ~1e-7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Tanh<TVec>(TVec x) where TVec : struct
    {
        var one = Simd.Broadcast<TVec>(1f);
        var e = ExpNonPositive(Simd.Multiply(Abs(x), Simd.Broadcast<TVec>(-2f)));
        return WithSignOf(Divide(Simd.Subtract(one, e), Simd.Add(one, e)), x);
    }

    /// <summary>The logistic function 1/(1 + e^−x), computed with e^(−|x|) so nothing overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid<TVec>(TVec x) where TVec : struct
    {
        var one = Simd.Broadcast<TVec>(1f);
        var e = ExpNonPositive(Simd.Subtract(default, Abs(x)));
        var numerator = SelectWhereGreaterOrEqual(x, default, one, e);
        return Divide(numerator, Simd.Add(one, e));
    }

    /// <summary>
    /// erfc z for z ≥ 0: the Chebyshev fit of Numerical Recipes (erfcc), fractional error below 1.2e-7 everywhere,
    /// plus the ~2e-7 of <see cref="Simd.Exp2{TVec}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ErfcNonNegative<TVec>(TVec z) where TVec : struct
    {
        var t = ReciprocalAtLeastOne(Simd.Fma(z, Simd.Broadcast<TVec>(0.5f), Simd.Broadcast<TVec>(1f)));
        var p = Simd.Broadcast<TVec>(0.17087277f);
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(-0.82215223f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(1.48851587f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(-1.13520398f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(0.27886807f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(-0.18628806f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(0.09678418f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(0.37409196f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(1.00002368f));
        p = Simd.Fma(p, t, Simd.Broadcast<TVec>(-1.26551223f));
        p = Simd.Subtract(p, Simd.Multiply(z, z));
        // p ≤ ~1e-8 (it is ≈ 0 only at z = 0), inside the domain of the exponential.
        return Simd.Multiply(t, ExpNonPositive(p));
    }

    /// <summary>
    /// GELU(x) = 0.5·x·(1 + erf(x/√2)), as x − 0.5·x·erfc(z) for x ≥ 0 and 0.5·x·erfc(z) for x &lt; 0 (z = |x|/√2),
    /// so neither side loses digits to cancellation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Gelu<TVec>(TVec x) where TVec : struct
    {
        var c = ErfcNonNegative(Simd.Multiply(Abs(x), Simd.Broadcast<TVec>(0.70710678118654752f)));
        var half = Simd.Multiply(Simd.Multiply(x, Simd.Broadcast<TVec>(0.5f)), c);
        return SelectWhereGreaterOrEqual(x, default, Simd.Subtract(x, half), half);
    }

    /// <summary>Applies <paramref name="activation"/> lane-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Activate<TVec>(TVec x, Activation activation) where TVec : struct => activation switch
    {
        Activation.Relu => Simd.Max(x, default),
        Activation.Gelu => Gelu(x),
        _ => x,
    };
}

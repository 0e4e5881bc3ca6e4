using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Width-generic helpers the CPU ops need beyond <see cref="Simd"/>: comparisons and selects, horizontal sums,
/// partial (tail) loads and stores, and the transcendental functions of the epilogues (tanh, GELU, sigmoid).
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

    /// <summary>Beyond ±5.6, erf(x/√2) is ±1 within 1e-8 (and x·Φ(x) below −5.6 is under 6e-8 in size).</summary>
    private const float GeluClamp = 5.6f;

    /// <summary>
    /// GELU(x) = ½x·(1 + erf(x/√2)), with erf(x/√2) ≈ x·P(x²)/Q(x²) on |x| ≤ 5.6: a degree-5/5 rational fit in x²
    /// (weighted least squares iterated towards minimax over [0, 5.6] in fp64; absolute error below 2e-8 before float
    /// rounding, Q ≥ 1 there), ±1 beyond. About 20 vector operations, no exponential: the epilogue of the FFN's first GEMM
    /// runs it on every output. Absolute error ≲ 1e-7·max(1, |x|) in float; x below −5.6 gives 0 exactly, as otherwise the
    /// rounding of 1 + erf ≈ 0 would be scaled by |x|. NaN propagates (through ½x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Gelu<TVec>(TVec x) where TVec : struct
    {
        var limit = Simd.Broadcast<TVec>(GeluClamp);
        var negativeLimit = Simd.Broadcast<TVec>(-GeluClamp);
        var clamped = MinNative(Simd.MaxFast(x, negativeLimit), limit);
        var s = Simd.Multiply(clamped, clamped);
        var p = Simd.Fma(Simd.Broadcast<TVec>(4.428871838e-08f), s, Simd.Broadcast<TVec>(1.271186536e-05f));
        p = Simd.Fma(p, s, Simd.Broadcast<TVec>(3.476507411e-04f));
        p = Simd.Fma(p, s, Simd.Broadcast<TVec>(9.414208409e-03f));
        p = Simd.Fma(p, s, Simd.Broadcast<TVec>(6.874818468e-02f));
        p = Simd.Fma(p, s, Simd.Broadcast<TVec>(7.978844437e-01f));
        var q = Simd.Fma(Simd.Broadcast<TVec>(1.180138840e-06f), s, Simd.Broadcast<TVec>(7.509147882e-05f));
        q = Simd.Fma(q, s, Simd.Broadcast<TVec>(1.912838865e-03f));
        q = Simd.Fma(q, s, Simd.Broadcast<TVec>(2.893885174e-02f));
        q = Simd.Fma(q, s, Simd.Broadcast<TVec>(2.528287887e-01f));
        q = Simd.Fma(q, s, Simd.Broadcast<TVec>(1f));
        var erf = Simd.Multiply(Simd.Multiply(clamped, p), ReciprocalAtLeastOne(q));
        var half = Simd.Multiply(x, Simd.Broadcast<TVec>(0.5f));
        // −5.6 ≥ x: 0 (false for NaN, which keeps the NaN of ½x).
        return SelectWhereGreaterOrEqual(negativeLimit, x, default, Simd.Fma(half, erf, half));
    }

    /// <summary>a &lt; b ? a : b in one instruction (x86 <c>minps</c>; a NaN in either gives <paramref name="b"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec MinNative<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.MinNative((Vector512<float>)(object)a, (Vector512<float>)(object)b);
        return (TVec)(object)Vector256.MinNative((Vector256<float>)(object)a, (Vector256<float>)(object)b);
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

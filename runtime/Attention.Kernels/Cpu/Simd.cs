using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Attention.Kernels.Cpu;

/// <summary>
/// Width-generic float SIMD operations. Kernels are written once against a type parameter TVec and
/// instantiated for <see cref="Vector512{T}"/> (AVX-512) and <see cref="Vector256{T}"/> (AVX2, and the
/// portable fallback). The <c>typeof</c> tests are JIT-time constants, so each instantiation compiles to
/// straight-line vector code with no branches or boxing (the BCL's own pattern for generic SIMD).
/// </summary>
public static unsafe class Simd
{
    /// <summary>True when 512-bit vectors run in hardware; kernels then use <see cref="Vector512{T}"/>.</summary>
    public static bool UseVector512 => Vector512.IsHardwareAccelerated;

    /// <summary>Floats per vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count<TVec>() where TVec : struct =>
        typeof(TVec) == typeof(Vector512<float>) ? Vector512<float>.Count : Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(float* source) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.Load(source);
        return (TVec)(object)Vector256.Load(source);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TVec>(TVec value, float* destination) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            ((Vector512<float>)(object)value).Store(destination);
        else
            ((Vector256<float>)(object)value).Store(destination);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Broadcast<TVec>(float value) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.Create(value);
        return (TVec)(object)Vector256.Create(value);
    }

    /// <summary>a·b + c with a single rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Fma<TVec>(TVec a, TVec b, TVec c) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.FusedMultiplyAdd((Vector512<float>)(object)a, (Vector512<float>)(object)b, (Vector512<float>)(object)c);
        return (TVec)(object)Vector256.FusedMultiplyAdd((Vector256<float>)(object)a, (Vector256<float>)(object)b, (Vector256<float>)(object)c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Multiply<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)((Vector512<float>)(object)a * (Vector512<float>)(object)b);
        return (TVec)(object)((Vector256<float>)(object)a * (Vector256<float>)(object)b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Add<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)((Vector512<float>)(object)a + (Vector512<float>)(object)b);
        return (TVec)(object)((Vector256<float>)(object)a + (Vector256<float>)(object)b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Subtract<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)((Vector512<float>)(object)a - (Vector512<float>)(object)b);
        return (TVec)(object)((Vector256<float>)(object)a - (Vector256<float>)(object)b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Max<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.Max((Vector512<float>)(object)a, (Vector512<float>)(object)b);
        return (TVec)(object)Vector256.Max((Vector256<float>)(object)a, (Vector256<float>)(object)b);
    }

    /// <summary>
    /// a &gt; b ? a : b in one instruction (x86 <c>maxps</c>): unlike <see cref="Max{TVec}"/> it does not order
    /// −0/+0 or look for NaN in <paramref name="a"/>; a NaN in <paramref name="b"/> is returned. The softmax row max
    /// uses it (a NaN score still poisons its row through 2^(s − max)); the IEEE form costs three instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec MaxFast<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.MaxNative((Vector512<float>)(object)a, (Vector512<float>)(object)b);
        return (TVec)(object)Vector256.MaxNative((Vector256<float>)(object)a, (Vector256<float>)(object)b);
    }

    /// <summary>True when some lane of <paramref name="a"/> is greater than the same lane of <paramref name="b"/> (NaN compares false).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyGreaterThan<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return Vector512.GreaterThanAny((Vector512<float>)(object)a, (Vector512<float>)(object)b);
        return Vector256.GreaterThanAny((Vector256<float>)(object)a, (Vector256<float>)(object)b);
    }

    /// <summary>Sum of all lanes (a horizontal reduction: keep it out of inner loops).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum<TVec>(TVec a) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return Vector512.Sum((Vector512<float>)(object)a);
        return Vector256.Sum((Vector256<float>)(object)a);
    }

    /// <summary>
    /// The sums of all lanes of four vectors, as one 128-bit vector [Σa, Σb, Σc, Σd]: each halved to 128 bits, then one
    /// transposing tree of horizontal adds, about half the operations of four separate <see cref="Sum{TVec}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4<TVec>(TVec a, TVec b, TVec c, TVec d) where TVec : struct
    {
        var x = Halve128(a);
        var y = Halve128(b);
        var z = Halve128(c);
        var t = Halve128(d);
        if (Sse3.IsSupported)
            return Sse3.HorizontalAdd(Sse3.HorizontalAdd(x, y), Sse3.HorizontalAdd(z, t));
        return Vector128.Create(Vector128.Sum(x), Vector128.Sum(y), Vector128.Sum(z), Vector128.Sum(t));
    }

    /// <summary>A vector folded to 128 bits by adding its halves (the lane sums are kept).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Halve128<TVec>(TVec a) where TVec : struct
    {
        Vector256<float> half = typeof(TVec) == typeof(Vector512<float>)
            ? ((Vector512<float>)(object)a).GetLower() + ((Vector512<float>)(object)a).GetUpper()
            : (Vector256<float>)(object)a;
        return half.GetLower() + half.GetUpper();
    }

    /// <summary>Largest lane (IEEE: a NaN lane gives NaN). A horizontal reduction: keep it out of inner loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross<TVec>(TVec a) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var v = (Vector512<float>)(object)a;
            return MaxAcross(Vector256.Max(v.GetLower(), v.GetUpper()));
        }
        return MaxAcross((Vector256<float>)(object)a);
    }

    private static float MaxAcross(Vector256<float> a)
    {
        var m = Vector128.Max(a.GetLower(), a.GetUpper());
        return MathF.Max(MathF.Max(m.GetElement(0), m.GetElement(1)), MathF.Max(m.GetElement(2), m.GetElement(3)));
    }

    /// <summary>Lanes equal to −∞ become 0, others are kept (the "safe max" of online softmax).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ZeroWhereNegativeInfinity<TVec>(TVec a) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var v = (Vector512<float>)(object)a;
            return (TVec)(object)Vector512.ConditionalSelect(Vector512.Equals(v, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, v);
        }
        var w = (Vector256<float>)(object)a;
        return (TVec)(object)Vector256.ConditionalSelect(Vector256.Equals(w, Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero, w);
    }

    /// <summary>−∞ where <paramref name="a"/> is −∞, else <paramref name="other"/> (keeps hidden pairs hidden through a transform).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec NegativeInfinityOr<TVec>(TVec a, TVec other) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var v = (Vector512<float>)(object)a;
            var ninf = Vector512.Create(float.NegativeInfinity);
            return (TVec)(object)Vector512.ConditionalSelect(Vector512.Equals(v, ninf), ninf, (Vector512<float>)(object)other);
        }
        var w = (Vector256<float>)(object)a;
        var ninf2 = Vector256.Create(float.NegativeInfinity);
        return (TVec)(object)Vector256.ConditionalSelect(Vector256.Equals(w, ninf2), ninf2, (Vector256<float>)(object)other);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Round<TVec>(TVec a) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.Round((Vector512<float>)(object)a);
        return (TVec)(object)Vector256.Round((Vector256<float>)(object)a);
    }

    /// <summary>2^n for lanes holding integral n in [−127, 127]; n = −127 gives exactly 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec PowerOfTwo<TVec>(TVec integral) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.ShiftLeft(Vector512.ConvertToInt32Native((Vector512<float>)(object)integral) + Vector512.Create(127), 23).AsSingle();
        return (TVec)(object)Vector256.ShiftLeft(Vector256.ConvertToInt32Native((Vector256<float>)(object)integral) + Vector256.Create(127), 23).AsSingle();
    }

    /// <summary>
    /// 2^x for the softmax's arguments: scores minus a row's reference max, so x ≤ <see cref="FlashAttentionCpu.MaxSlack"/> (8;
    /// the reference moves lazily). Relative error below 3e-7 on [−126, 0]; above 0 only n grows, so the same.
    /// x ≤ −151 (−∞ included) gives exactly 0, so masked scores contribute nothing.
    /// </summary>
    /// <remarks>
    /// x = n + f with n = round(x), |f| ≤ ½; 2^f by a degree-5 minimax polynomial in f (relative error 2e-7 in fp32; the
    /// degree-6 Taylor form of e^(f·ln2) it replaces took two more operations), 2^n with AVX-512's <c>vscalefps</c> (one
    /// instruction for the exponent bits, their add, shift and multiply), else by building the exponent bits (then
    /// x ≤ −127 is already 0). The softmax evaluates this once per score: fewer operations are a direct share of its time.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Exp2<TVec>(TVec x) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>) && Avx512F.IsSupported)
        {
            // Clamped at −151: 2^−151·p with p = 2^f(0) < 2 is below half the smallest denormal 2^−149, so it rounds to 0.
            var c = Vector512.MaxNative(Vector512.Create(-151f), (Vector512<float>)(object)x); // NaN x stays NaN
            var n = Vector512.Round(c);
            return (TVec)(object)Avx512F.Scale(Exp2Fraction(c - n), n);
        }
        var clamped = MaxFast(Broadcast<TVec>(-127f), x); // NaN x stays NaN (maxps returns its second operand)
        var whole = Round(clamped);
        return Multiply(Exp2Fraction(Subtract(clamped, whole)), PowerOfTwo(whole));
    }

    /// <summary>2^f for |f| ≤ ½: degree-5 minimax coefficients (relative error 2e-7 with fp32 Horner steps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Exp2Fraction<TVec>(TVec f) where TVec : struct
    {
        var p = Broadcast<TVec>(1.327647129073739e-3f);
        p = Fma(p, f, Broadcast<TVec>(9.675540961325169e-3f));
        p = Fma(p, f, Broadcast<TVec>(5.550713092088699e-2f));
        p = Fma(p, f, Broadcast<TVec>(2.4022120237350464e-1f));
        p = Fma(p, f, Broadcast<TVec>(6.931469440460205e-1f));
        return Fma(p, f, Broadcast<TVec>(1.0000001192092896f));
    }

    /// <summary>
    /// tanh(x) per lane, relative error below 1e-6 over all floats (tested against Math.Tanh); |x| &lt; 4e-4 gives x (±0 and
    /// denormals kept), |x| ≥ 9 (±∞ included) exactly ±1, NaN passes through. A rational minimax form on x clamped to ±7.9 (Eigen's
    /// generic_fast_tanh_float): x·P(x²)/Q(x²), odd degree 13 over even degree 6, one division, no exp: about half the
    /// instructions of the exp-based form, which made soft-capping cost 1.25× the plain kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Tanh<TVec>(TVec x) where TVec : struct
    {
        // maxps/minps return their second operand when either is NaN: NaN x passes both clamps.
        var c = MinNative(Broadcast<TVec>(7.90531110763549805f), MaxFast(Broadcast<TVec>(-7.90531110763549805f), x));
        var z = Multiply(c, c);
        var p = Broadcast<TVec>(-2.76076847742355e-16f);
        p = Fma(p, z, Broadcast<TVec>(2.00018790482477e-13f));
        p = Fma(p, z, Broadcast<TVec>(-8.60467152213735e-11f));
        p = Fma(p, z, Broadcast<TVec>(5.12229709037114e-08f));
        p = Fma(p, z, Broadcast<TVec>(1.48572235717979e-05f));
        p = Fma(p, z, Broadcast<TVec>(6.37261928875436e-04f));
        p = Fma(p, z, Broadcast<TVec>(4.89352455891786e-03f));
        p = Multiply(p, c);
        var q = Broadcast<TVec>(1.19825839466702e-06f);
        q = Fma(q, z, Broadcast<TVec>(1.18534705686654e-04f));
        q = Fma(q, z, Broadcast<TVec>(2.26843463243900e-03f));
        q = Fma(q, z, Broadcast<TVec>(4.89352518554385e-03f));
        if (typeof(TVec) == typeof(Vector512<float>))
        {
            var v = (Vector512<float>)(object)x;
            var r = (Vector512<float>)(object)p / (Vector512<float>)(object)q;
            // Past ±7.9 the clamp leaves tanh 3e-7 short of ±1: saturate exactly (cap·tanh reaches ±cap).
            var a = Vector512.Abs(v);
            var one = Vector512.Create(1f) | (v & Vector512.Create(-0f));
            r = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(4e-4f)), v, r); // tanh x = x to 5e-8 (and denormals keep their bits)
            return (TVec)(object)Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512.Create(9f)), one, r);
        }
        var w = (Vector256<float>)(object)x;
        var r2 = (Vector256<float>)(object)p / (Vector256<float>)(object)q;
        var a2 = Vector256.Abs(w);
        var one2 = Vector256.Create(1f) | (w & Vector256.Create(-0f));
        r2 = Vector256.ConditionalSelect(Vector256.LessThan(a2, Vector256.Create(4e-4f)), w, r2);
        return (TVec)(object)Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a2, Vector256.Create(9f)), one2, r2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec MinNative<TVec>(TVec a, TVec b) where TVec : struct
    {
        if (typeof(TVec) == typeof(Vector512<float>))
            return (TVec)(object)Vector512.MinNative((Vector512<float>)(object)a, (Vector512<float>)(object)b);
        return (TVec)(object)Vector256.MinNative((Vector256<float>)(object)a, (Vector256<float>)(object)b);
    }
}

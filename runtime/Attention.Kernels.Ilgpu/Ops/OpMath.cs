using ILGPU.Algorithms;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>
/// Scalar math of the graph-op kernels, the same formulas as the CPU ops (SimdMath) so both backends round alike:
/// exponentials only of non-positive arguments (nothing overflows), erfc by a Chebyshev fit (XMath has no erf).
/// </summary>
/// <remarks>Plain multiply-adds throughout: MathF.FusedMultiplyAdd generates broken GPU code in ILGPU 1.5.3.</remarks>
public static class OpMath
{
    /// <summary>Activation.Relu and Activation.Gelu as ints (enums stay out of kernel signatures).</summary>
    public const int Relu = (int)Activation.Relu, Gelu = (int)Activation.Gelu;

    /// <summary>Applies the activation <paramref name="activation"/> (an <see cref="Activation"/> value).</summary>
    public static float Activate(float v, int activation)
    {
        if (activation == Relu)
            return XMath.Max(v, 0f);
        if (activation == Gelu)
            return GeluExact(v);
        return v;
    }

    /// <summary>
    /// GELU(x) = 0.5·x·(1 + erf(x/√2)), as x − 0.5·x·erfc(z) for x ≥ 0 and 0.5·x·erfc(z) for x &lt; 0 (z = |x|/√2), so
    /// neither side loses digits to cancellation.
    /// </summary>
    public static float GeluExact(float x)
    {
        float half = 0.5f * x * ErfcNonNegative(XMath.Abs(x) * 0.70710678118654752f);
        return x >= 0f ? x - half : half;
    }

    /// <summary>
    /// erfc z for z ≥ 0: the Chebyshev fit of Numerical Recipes (erfcc), fractional error below 1.2e-7 everywhere
    /// (the exponent is ≤ ~1e-8, so e^p never overflows).
    /// </summary>
    public static float ErfcNonNegative(float z)
    {
        float t = 1f / (1f + 0.5f * z);
        float p = 0.17087277f;
        p = p * t - 0.82215223f;
        p = p * t + 1.48851587f;
        p = p * t - 1.13520398f;
        p = p * t + 0.27886807f;
        p = p * t - 0.18628806f;
        p = p * t + 0.09678418f;
        p = p * t + 0.37409196f;
        p = p * t + 1.00002368f;
        p = p * t - 1.26551223f;
        return t * XMath.Exp(p - z * z);
    }

    /// <summary>The logistic function 1/(1 + e^−x), through e^(−|x|) so nothing overflows.</summary>
    public static float Sigmoid(float x)
    {
        float e = XMath.Exp(-XMath.Abs(x));
        return (x >= 0f ? 1f : e) / (1f + e);
    }

    /// <summary>tanh x = sign(x)·(1 − e)/(1 + e), e = e^(−2|x|) ≤ 1 (no overflow; absolute error ~1e-7, like the CPU op).</summary>
    public static float Tanh(float x)
    {
        float e = XMath.Exp(-2f * XMath.Abs(x));
        float magnitude = (1f - e) / (1f + e);
        return x >= 0f ? magnitude : -magnitude;
    }
}

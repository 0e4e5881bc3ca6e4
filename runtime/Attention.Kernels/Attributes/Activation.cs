namespace Attention.Kernels;

/// <summary>An element-wise activation, applied by the CPU ops in their epilogue (fused into the op that produces the values).</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None = 0,

    /// <summary>max(x, 0).</summary>
    Relu = 1,

    /// <summary>The exact (erf) GELU, PyTorch's default: 0.5·x·(1 + erf(x/√2)).</summary>
    Gelu = 2,
}

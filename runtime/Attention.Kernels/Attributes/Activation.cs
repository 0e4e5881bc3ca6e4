namespace Attention.Kernels;

/// <summary>Element-wise activation, applied in the epilogue of a <see cref="LinearAttribute"/> or as its own node.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None = 0,

    /// <summary>max(0, x).</summary>
    Relu = 1,

    /// <summary>0.5·x·(1 + erf(x/√2)), the exact form (PyTorch's default).</summary>
    Gelu = 2,
}

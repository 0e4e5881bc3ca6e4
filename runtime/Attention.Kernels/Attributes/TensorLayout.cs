namespace Attention.Kernels;

/// <summary>Memory layout of the query, key, value and output tensors (row-major, last axis contiguous).</summary>
public enum TensorLayout
{
    /// <summary>[batch, sequence, heads, headDim]: the layout a fused QKV projection writes (PyTorch's <c>batch_first</c>).</summary>
    BTHD = 0,

    /// <summary>[batch, heads, sequence, headDim]: the layout of PyTorch's <c>scaled_dot_product_attention</c>.</summary>
    BHTD = 1,
}

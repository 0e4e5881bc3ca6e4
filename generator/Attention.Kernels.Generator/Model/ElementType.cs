namespace Attention.Kernels.Generator.Model;

/// <summary>
/// How a kernel's q, k, v and output tensors store their elements. Arithmetic is fp32 for every storage type:
/// kernels widen on load and round (to nearest, ties to even) on store.
/// </summary>
internal enum ElementType
{
    /// <summary><c>Tensor&lt;float&gt;</c>.</summary>
    Float32 = 0,

    /// <summary><c>Tensor&lt;System.Half&gt;</c> (IEEE binary16).</summary>
    Float16 = 1,

    /// <summary><c>Tensor&lt;Attention.Kernels.BFloat16&gt;</c>.</summary>
    BFloat16 = 2,
}

/// <summary>The names and sizes each storage type is written with in generated code.</summary>
internal static class ElementTypes
{
    /// <summary>The element type as the user writes it in a declaration: <c>float</c>, <c>Half</c>, <c>BFloat16</c>.</summary>
    public static string DisplayName(this ElementType type) => type switch
    {
        ElementType.Float16 => "Half",
        ElementType.BFloat16 => "BFloat16",
        _ => "float",
    };

    /// <summary>The fully qualified C# type of one element.</summary>
    public static string CSharpType(this ElementType type) => type switch
    {
        ElementType.Float16 => "global::System.Half",
        ElementType.BFloat16 => "global::Attention.Kernels.BFloat16",
        _ => "float",
    };

    /// <summary>Bytes per element.</summary>
    public static int Size(this ElementType type) => type == ElementType.Float32 ? 4 : 2;

    /// <summary>The suffix of the device prelude's storage macros (<c>STORAGE_F16</c>, <c>LOAD_F16</c>, <c>STORE_F16</c>).</summary>
    public static string DeviceSuffix(this ElementType type) => type switch
    {
        ElementType.Float16 => "F16",
        ElementType.BFloat16 => "BF16",
        _ => "F32",
    };

    /// <summary>Words for comments: "fp32", "fp16", "bf16".</summary>
    public static string ShortName(this ElementType type) => type switch
    {
        ElementType.Float16 => "fp16",
        ElementType.BFloat16 => "bf16",
        _ => "fp32",
    };
}

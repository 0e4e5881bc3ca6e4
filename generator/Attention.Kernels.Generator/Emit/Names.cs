using System.Globalization;

namespace Attention.Kernels.Generator.Emit;

/// <summary>Fully qualified names the generated code uses (always global::, so user types never shadow them).</summary>
internal static class Names
{
    public const string Runtime = "global::Attention.Kernels";
    public const string Tensor = Runtime + ".Tensor<float>";
    public const string IntTensor = Runtime + ".Tensor<int>";
    public const string BoolTensor = Runtime + ".Tensor<bool>";
    public const string MaskTensorKind = Runtime + ".MaskTensorKind";
    public const string MaskStrides = Runtime + ".MaskStrides";
    public const string TensorShape = Runtime + ".TensorShape";
    public const string KernelCost = Runtime + ".KernelCost";
    public const string DeviceKind = Runtime + ".DeviceKind";
    public const string AttentionMask = Runtime + ".AttentionMask";
    public const string TensorLayout = Runtime + ".TensorLayout";
    public const string Geometry = Runtime + ".AttentionGeometry";
    public const string AttentionKernel = Runtime + ".IAttentionKernel";
    public const string KernelLayout = Runtime + ".KernelLayout";
    public const string CpuParallel = Runtime + ".Cpu.CpuParallel";
    public const string CpuBody = Runtime + ".Cpu.ICpuParallelBody";
    public const string Flash = Runtime + ".Cpu.FlashAttentionCpu";
    public const string CpuModTensors = Runtime + ".ModTensors<" + Runtime + ".Cpu.CpuModTensor<int>, " + Runtime + ".Cpu.CpuModTensor<float>>";
    public const string Simd = Runtime + ".Cpu.Simd";
    public const string Vector512 = "global::System.Runtime.Intrinsics.Vector512<float>";
    public const string Vector256 = "global::System.Runtime.Intrinsics.Vector256<float>";
    public const string GeneratedCode = "[global::System.CodeDom.Compiler.GeneratedCode(\"Attention.Kernels.Generator\", \"" + Version + "\")]";
    public const string Version = "0.1.0";

    /// <summary>The tensor type of q, k, v and output for <paramref name="storage"/>, e.g. <c>global::Attention.Kernels.Tensor&lt;global::System.Half&gt;</c>.</summary>
    public static string TensorOf(Model.ElementType storage) => $"{Runtime}.Tensor<{Model.ElementTypes.CSharpType(storage)}>";

    /// <summary>A float literal that round-trips exactly, e.g. <c>0.125f</c>.</summary>
    public static string Float(double value) => ((float)value).ToString("R", CultureInfo.InvariantCulture) + "f";
}

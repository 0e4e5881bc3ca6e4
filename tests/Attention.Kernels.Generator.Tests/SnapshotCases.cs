namespace Attention.Kernels.Generator.Tests;

/// <summary>Representative declarations: each is snapshot-tested and must compile with warnings as errors.</summary>
public static class SnapshotCases
{
    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>
    {
        ["CausalGqa"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class Kernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
                public static partial void CausalGqa(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
            }
            """,

        ["SlidingWindowBhtdWithLse"] = """
            using Attention.Kernels;

            namespace Demo.Windows
            {
                internal static partial class LocalAttention
                {
                    [ScaledDotProductAttention(HeadDim = 128, Heads = 4, Mask = AttentionMask.SlidingWindow, Window = 256, Layout = TensorLayout.BHTD)]
                    internal static partial void Local(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);
                }
            }
            """,

        ["MultiQueryCustomScaleNested"] = """
            using Attention.Kernels;

            public partial class Model
            {
                private partial struct Blocks
                {
                    [ScaledDotProductAttention(HeadDim = 80, Heads = 12, KvHeads = 1, Scale = 0.1)]
                    private static partial void Decode(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

                    public static void Run(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> o) => Decode(q, k, v, o);
                }
            }
            """,

        ["SeveralKernelsInOneType"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class Encoder
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
                public static partial void Self(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

                [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
                public static partial void Cross(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);
            }
            """,
    };
}

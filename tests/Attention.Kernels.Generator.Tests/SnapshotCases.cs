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

        ["CausalTopLeftGqaWithLse"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class PyTorchKernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.CausalTopLeft)]
                public static partial void IsCausal(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);
            }
            """,

        ["ScoreAndMaskMods"] = """
            using System;
            using Attention.Kernels;

            namespace Demo;

            public static partial class ModKernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal,
                    ScoreMod = nameof(Alibi), MaskMod = nameof(SameDocument))]
                public static partial void Documents(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp);

                private static float Alibi(float score, int batch, int head, int query, int key) =>
                    score - MathF.Pow(2f, -8f * (head + 1) / 8) * (query - key);

                private static bool SameDocument(int batch, int head, int query, int key) => query / 37 == key / 37;
            }
            """,

        ["ModsReadingTensors"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class ModKernels
            {
                // A T5-style relative bias [H, 16] and cross-attention between documents (query and key ids of their own lengths).
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft,
                    ScoreMod = nameof(RelativeBias), MaskMod = nameof(SameDocument))]
                public static partial void Cross(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
                    Tensor<float> bias, Tensor<int> queryIds, Tensor<int> keyIds);

                private static float RelativeBias<TBias>(float score, int batch, int head, int query, int key, TBias bias)
                    where TBias : struct, IModTensor<float> => score + bias[head, key - query < -8 ? 0 : key - query > 7 ? 15 : key - query + 8];

                private static bool SameDocument<TIds>(int batch, int head, int query, int key, TIds queryIds, TIds keyIds)
                    where TIds : struct, IModTensor<int> => queryIds[batch, query] == keyIds[batch, key];
            }
            """,

        ["KeyPaddingCausalWithLse"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class PaddedKernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
                public static partial void Padded(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths);
            }
            """,

        ["DocumentAndPrefixLmMasks"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class PackedDocuments
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft)]
                public static partial void Documents(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths, Tensor<int> documentIds);

                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2)]
                public static partial void PrefixLm(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> prefixLengths);
            }
            """,

        ["VarlenCausalWithLse"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class PackedKernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
                public static partial void Packed(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp,
                    Tensor<int> queryOffsets, Tensor<int> keyOffsets);
            }
            """,

        ["AttentionMaskTensors"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class PyTorchMasks
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft)]
                public static partial void Boolean(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths, Tensor<bool> attnMask);

                [ScaledDotProductAttention(HeadDim = 32, Heads = 4, Layout = TensorLayout.BHTD)]
                public static partial void Additive(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<float> attnMask);
            }
            """,

        ["BuiltInAlibiSoftCap"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class BuiltIns
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 12, Mask = AttentionMask.Causal, Alibi = true, SoftCap = 50)]
                public static partial void Capped(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
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

        ["HalfStorageCausal"] = """
            using System;
            using Attention.Kernels;

            namespace Demo;

            public static partial class HalfKernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8, KvHeads = 2, Mask = AttentionMask.Causal)]
                public static partial void CausalHalf(Tensor<Half> q, Tensor<Half> k, Tensor<Half> v, Tensor<Half> output, Tensor<float> logSumExp);
            }
            """,

        ["BFloat16StorageBhtd"] = """
            using Attention.Kernels;

            namespace Demo;

            public static partial class BFloat16Kernels
            {
                [ScaledDotProductAttention(HeadDim = 32, Heads = 4, Layout = TensorLayout.BHTD)]
                public static partial void Plain(Tensor<BFloat16> q, Tensor<BFloat16> k, Tensor<BFloat16> v, Tensor<BFloat16> output);
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

        ["EncoderBlockModel"] = """
            using Attention.Kernels;

            namespace Demo.Models;

            [AttentionModel]
            public partial class EncoderBlock
            {
                [Linear("qkv", From = "x", OutFeatures = 3 * 512)]
                [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal)]
                [Linear("proj", From = "ctx", OutFeatures = 512)]
                [Residual("h", From = "proj", Skip = "x")]
                [LayerNorm("norm", From = "h")]
                [Linear("up", From = "norm", OutFeatures = 2048)]
                [Gelu("act", From = "up")]
                [Linear("down", From = "act", OutFeatures = 512)]
                [Residual("y", From = "down", Skip = "norm")]
                public partial void Forward([Features(512)] Tensor<float> x, Tensor<float> y);
            }
            """,

        ["SentenceEncoderModel"] = """
            using Attention.Kernels;

            namespace Demo.Models;

            [AttentionModel]
            public partial class SentenceEncoder
            {
                [Embedding("emb", From = "inputIds", Vocabulary = 1000, Features = 64, Positions = 128, TokenTypes = 2, TokenTypeIds = "tokenTypeIds", Epsilon = 1e-12)]
                [MultiHeadAttention("attn", From = "emb", HeadDim = 16, Heads = 4, KeyPadding = "attentionMask")]
                [Residual("res", From = "attn", Skip = "emb")]
                [LayerNorm("hidden", From = "res", Epsilon = 1e-12)]
                [MeanPooling("pooled", From = "hidden", Padding = "attentionMask")]
                [L2Normalize("embeddings", From = "pooled")]
                public partial void Forward(Tensor<int> inputIds, Tensor<int> tokenTypeIds, Tensor<int> attentionMask, Tensor<float> hidden, Tensor<float> embeddings);
            }
            """,

        ["GraphAttentionModsModel"] = """
            using Attention.Kernels;

            namespace Demo.Models;

            [AttentionModel]
            public partial class Modded
            {
                [MultiHeadAttention("attn", From = "x", HeadDim = 8, Heads = 2, KeyPadding = "lengths", ScoreMod = nameof(Alibi), MaskMod = nameof(Near))]
                public partial void Forward([Features(16)] Tensor<float> x, Tensor<int> lengths, Tensor<float> attn);

                private static float Alibi(float score, int batch, int head, int query, int key) => score - 0.25f * (head + 1) * (query - key);
                private static bool Near(int batch, int head, int query, int key) => query - key <= 5;
            }
            """,

        ["GraphDataMasksModel"] = """
            using Attention.Kernels;

            namespace Demo.Models;

            [AttentionModel]
            public partial class Masked
            {
                [MultiHeadAttention("attn", From = "x", HeadDim = 8, Heads = 2, Mask = AttentionMask.CausalTopLeft, DocumentIds = "documents",
                    ScoreMod = nameof(Bias), MaskMod = nameof(Keep))]
                [Linear("qkv", From = "attn", OutFeatures = 48)]
                [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = 8, Heads = 2, PrefixLengths = "prefix", KeyPadding = "lengths")]
                public partial void Forward([Features(16)] Tensor<float> x, Tensor<int> documents, Tensor<int> prefix, Tensor<int> lengths,
                    Tensor<float> bias, Tensor<int> keep, Tensor<float> ctx);

                private static float Bias<T>(float score, int batch, int head, int query, int key, T bias)
                    where T : struct, IModTensor<float> => score + bias[head, key];
                private static bool Keep<TIds, TBias>(int batch, int head, int query, int key, TIds keep, TBias bias)
                    where TIds : struct, IModTensor<int> where TBias : struct, IModTensor<float> => keep[batch, key] != 0 && bias[head, query] > -1e9f;
            }
            """,

        ["GraphAttnMaskModel"] = """
            using Attention.Kernels;

            namespace Demo.Models;

            [AttentionModel]
            public partial class AttnMasked
            {
                [MultiHeadAttention("attn", From = "x", HeadDim = 8, Heads = 2, Mask = AttentionMask.CausalTopLeft, AttnMask = "keep", KeyPadding = "lengths")]
                [Linear("qkv", From = "attn", OutFeatures = 48)]
                [ScaledDotProductAttention("ctx", From = "qkv", HeadDim = 8, Heads = 2, AttnMask = "bias", ScoreMod = nameof(Scaled))]
                public partial void Forward([Features(16)] Tensor<float> x, Tensor<bool> keep, Tensor<int> lengths, Tensor<float> bias,
                    Tensor<float> scales, Tensor<float> ctx);

                private static float Scaled<T>(float score, int batch, int head, int query, int key, T scales)
                    where T : struct, IModTensor<float> => score * scales[head];
            }
            """,

        ["DocumentClassifierModel"] = """
            using Attention.Kernels;

            namespace Demo.Models;

            [AttentionModel]
            public partial class DocumentClassifier
            {
                [PositionalWeighting("positioned", From = "tokens", MaxLength = 512)]
                [SqueezeExcitation("excited", From = "positioned", Reduction = 8)]
                [HierarchicalAttention("document", From = "excited", Segments = "sentences", WordHidden = 32)]
                [RmsNorm("normalized", From = "document")]
                [Linear("logits", From = "normalized", OutFeatures = 5)]
                public partial void Classify([Features(64)] Tensor<float> tokens, Tensor<int> sentences, Tensor<float> logits);
            }
            """,

        ["LayerMixMultiHeadModel"] = """
            using Attention.Kernels;

            [AttentionModel]
            internal partial class Mixer
            {
                [MultiHeadAttention("attn", From = "x", Heads = 4, KvHeads = 2, HeadDim = 16)]
                [Residual("h1", From = "x", Skip = "attn")]
                [Relu("r", From = "h1")]
                [LayerwiseAdaptive("mixed", From = "x, h1, r")]
                [AttentionPooling("pooled", From = "mixed", Hidden = 0)]
                internal static partial void Run([Features(64)] Tensor<float> x, Tensor<float> pooled);
            }
            """,
    };
}

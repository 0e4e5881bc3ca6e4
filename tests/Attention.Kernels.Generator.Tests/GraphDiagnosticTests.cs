using Microsoft.CodeAnalysis;
using Xunit;

namespace Attention.Kernels.Generator.Tests;

/// <summary>Graph mistakes in [AttentionModel] classes: each ID, with the exact text it points at.</summary>
public sealed class GraphDiagnosticTests
{
    private static string Model(string nodes, string parameters = "[Features(64)] Tensor<float> x, Tensor<float> y", string method = "public partial void Forward") => $$"""
        using Attention.Kernels;
        namespace Demo;
        [AttentionModel]
        public partial class M
        {
        {{nodes}}
            {{method}}({{parameters}});
        }
        """;

    private static Diagnostic AssertHas(string source, string id, string locatedText, DiagnosticSeverity severity = DiagnosticSeverity.Error)
    {
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(source);
        string Located(Diagnostic d) => source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
        var diagnostic = diagnostics.FirstOrDefault(d => d.Id == id && Located(d) == locatedText);
        Assert.True(diagnostic is not null, $"expected {id} at '{locatedText}', got: {string.Join("; ", diagnostics.Select(d => $"{d} at '{Located(d)}'"))}");
        // The harness compiles with warnings as errors, so compare the rule's own severity.
        Assert.Equal(severity, diagnostic!.Descriptor.DefaultSeverity);
        Assert.EndsWith($"docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
        return diagnostic;
    }

    [Fact]
    public void A_valid_graph_has_no_errors_or_warnings() =>
        Assert.DoesNotContain(GeneratorHarness.GeneratorDiagnostics(Model("""
            [Linear("h", From = "x", OutFeatures = 64)]
            [Residual("y", From = "h", Skip = "x")]
        """)), d => d.Severity >= DiagnosticSeverity.Warning);

    [Fact]
    public void AK0100_unknown_value() =>
        AssertHas(Model("""    [Linear("y", From = "z", OutFeatures = 64)]"""), "AK0100", "From = \"z\"");

    [Fact]
    public void AK0101_duplicate_node_name() =>
        AssertHas(Model("""
            [Linear("y", From = "x", OutFeatures = 64)]
            [Relu("y", From = "x")]
        """), "AK0101", "Relu(\"y\", From = \"x\")");

    [Fact]
    public void AK0102_cycle() =>
        AssertHas(Model("""
            [Linear("a", From = "b", OutFeatures = 64)]
            [Linear("b", From = "a", OutFeatures = 64)]
            [Residual("y", From = "a", Skip = "x")]
        """), "AK0102", "Linear(\"a\", From = \"b\", OutFeatures = 64)");

    [Fact]
    public void AK0103_unused_node_is_a_warning() =>
        AssertHas(Model("""
            [Linear("y", From = "x", OutFeatures = 64)]
            [Relu("spare", From = "x")]
        """), "AK0103", "Relu(\"spare\", From = \"x\")", DiagnosticSeverity.Warning);

    [Fact]
    public void AK0104_residual_of_different_widths() =>
        AssertHas(Model("""
            [Linear("h", From = "x", OutFeatures = 32)]
            [Residual("y", From = "h", Skip = "x")]
        """), "AK0104", "Skip = \"x\"");

    [Fact]
    public void AK0104_attention_reads_the_wrong_packed_width() =>
        AssertHas(Model("""
            [Linear("qkv", From = "x", OutFeatures = 100)]
            [ScaledDotProductAttention("y", From = "qkv", HeadDim = 16, Heads = 4)]
        """), "AK0104", "From = \"qkv\"");

    [Fact]
    public void AK0104_output_features_disagree() =>
        AssertHas(Model("""    [Linear("y", From = "x", OutFeatures = 32)]""", "[Features(64)] Tensor<float> x, [Features(16)] Tensor<float> y"),
            "AK0104", "[Features(16)] Tensor<float> y");

    [Fact]
    public void AK0105_output_never_produced() =>
        AssertHas(Model("""    [Linear("h", From = "x", OutFeatures = 64)]""", "[Features(64)] Tensor<float> x, Tensor<float> h, Tensor<float> y"),
            "AK0105", "Tensor<float> y");

    [Fact]
    public void AK0106_input_without_features() =>
        AssertHas(Model("""    [Linear("y", From = "x", OutFeatures = 64)]""", "Tensor<float> x, Tensor<float> y"), "AK0106", "Tensor<float> x");

    [Fact]
    public void AK0107_pooled_value_into_a_sequence_node() =>
        AssertHas(Model("""
            [AttentionPooling("p", From = "x")]
            [SqueezeExcitation("y", From = "p")]
        """), "AK0107", "From = \"p\"");

    [Fact]
    public void AK0107_layout_is_not_settable_in_a_graph() =>
        AssertHas(Model("""
            [Linear("qkv", From = "x", OutFeatures = 192)]
            [ScaledDotProductAttention("y", From = "qkv", HeadDim = 16, Heads = 4, Layout = TensorLayout.BHTD)]
        """), "AK0107", "Layout = TensorLayout.BHTD");

    [Fact]
    public void AK0021_mods_of_graph_attention_nodes_are_checked_like_kernels() =>
        AssertHas(Model("""
            [Linear("qkv", From = "x", OutFeatures = 192)]
            [ScaledDotProductAttention("y", From = "qkv", HeadDim = 16, Heads = 4, MaskMod = "Same")]
        """), "AK0021", "MaskMod = \"Same\"");

    [Fact]
    public void AK0108_residual_that_cannot_fuse_is_reported_as_info()
    {
        var diagnostic = AssertHas(Model("""
            [Linear("h", From = "x", OutFeatures = 64)]
            [Relu("r", From = "h")]
            [Residual("y", From = "h", Skip = "r")]
        """), "AK0108", "Residual(\"y\", From = \"h\", Skip = \"r\")", DiagnosticSeverity.Info);
        Assert.Contains("also read by 'r'", diagnostic.GetMessage());
    }

    [Fact]
    public void AK0109_graph_method_must_be_partial_void() =>
        AssertHas(Model("""    [Linear("y", From = "x", OutFeatures = 64)]""", method: "public partial int Forward"), "AK0109", "Forward");

    [Fact]
    public void AK0110_node_on_a_class_without_AttentionModel()
    {
        string source = Model("""    [Linear("y", From = "x", OutFeatures = 64)]""").Replace("[AttentionModel]", "");
        AssertHas(source, "AK0110", "Linear(\"y\", From = \"x\", OutFeatures = 64)");
    }

    [Fact]
    public void AK0110_named_attention_node_on_a_class_without_AttentionModel()
    {
        string source = Model("""
            [Linear("qkv", From = "x", OutFeatures = 192)]
            [ScaledDotProductAttention("y", From = "qkv", HeadDim = 16, Heads = 4)]
        """).Replace("[AttentionModel]", "");
        AssertHas(source, "AK0110", "ScaledDotProductAttention(\"y\", From = \"qkv\", HeadDim = 16, Heads = 4)");
    }

    [Fact]
    public void AK0015_features_too_large() =>
        AssertHas(Model("""    [Linear("y", From = "x", OutFeatures = 64)]""", "[Features(2000000000)] Tensor<float> x, Tensor<float> y"),
            "AK0015", "[Features(2000000000)] Tensor<float> x");

    [Fact]
    public void AK0015_out_features_too_large() =>
        AssertHas(Model("""    [Linear("y", From = "x", OutFeatures = 2000000000)]"""), "AK0015", "OutFeatures = 2000000000");

    [Fact]
    public void AK0015_weight_too_large_for_32_bit_element_counts() =>
        AssertHas(Model("""    [Linear("y", From = "x", OutFeatures = 1048576)]""", "[Features(1048576)] Tensor<float> x, Tensor<float> y"),
            "AK0015", "Linear(\"y\", From = \"x\", OutFeatures = 1048576)");

    [Fact]
    public void AK0111_graph_method_without_nodes_and_no_CS8795()
    {
        string source = Model("", "[Features(64)] Tensor<float> x, Tensor<float> y");
        var diagnostic = Assert.Single(GeneratorHarness.GeneratorDiagnostics(source));
        Assert.Equal("AK0111", diagnostic.Id);
        AssertHas(source, "AK0111", "Forward");
        Assert.Empty(GeneratorHarness.CompileDiagnostics(GeneratorHarness.Run(source).Output));
    }

    [Fact]
    public void Plain_partial_void_without_nodes_in_a_model_class_is_left_alone()
    {
        // C# lets 'partial void M();' (no accessibility) stay unimplemented: it is not a graph method.
        string source = Model("""    [Linear("y", From = "x", OutFeatures = 64)]""") + "\npublic partial class M { partial void OnReady(); }\n";
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(source));
    }

    [Fact]
    public void AK0018_graph_method_with_a_hand_written_body()
    {
        string source = Model("""    [Linear("y", From = "x", OutFeatures = 64)]""") +
            "\npublic partial class M { public partial void Forward(Tensor<float> x, Tensor<float> y) { } }\n";
        var diagnostic = Assert.Single(GeneratorHarness.GeneratorDiagnostics(source));
        Assert.Equal("AK0018", diagnostic.Id);
        Assert.Equal(source.LastIndexOf("Forward", StringComparison.Ordinal), diagnostic.Location.SourceSpan.Start);
        Assert.DoesNotContain(GeneratorHarness.CompileDiagnostics(GeneratorHarness.Run(source).Output), d => d.Id is "CS0757" or "CS8795");
    }

    [Fact]
    public void AK0019_graph_node_on_a_local_function()
    {
        const string source = """
            using Attention.Kernels;
            [AttentionModel]
            public partial class M
            {
                public void Run()
                {
                    [Linear("y", From = "x", OutFeatures = 64)]
                    void Forward(Tensor<float> x, Tensor<float> y) { }
                }
            }
            """;
        AssertHas(source, "AK0019", "Linear(\"y\", From = \"x\", OutFeatures = 64)");
    }

    [Fact]
    public void Attention_argument_rules_apply_to_graph_nodes_too() =>
        AssertHas(Model("""
            [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, KvHeads = 3)]
        """), "AK0007", "KvHeads = 3");

    [Fact]
    public void Fusion_plan_is_explained_in_the_remarks()
    {
        var (result, _) = GeneratorHarness.Run(SnapshotCases.All["EncoderBlockModel"]);
        string source = result.GeneratedTrees.Single().ToString();
        Assert.Contains("'proj' + 'h' fused: the residual add happens in the GEMM epilogue.", source);
        Assert.Contains("'up' + 'act' fused: Gelu is applied in the GEMM epilogue.", source);
        Assert.Contains("heads read in place from the packed projection", source);
    }

    [Fact]
    public void AK0112_float_value_named_as_padding() =>
        AssertHas(Model("""
            [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, KeyPadding = "x")]
        """), "AK0112", "KeyPadding = \"x\"");

    [Fact]
    public void AK0112_int_parameter_read_as_floats() =>
        AssertHas(Model("""
            [Linear("h", From = "x", OutFeatures = 64)]
            [Residual("y", From = "h", Skip = "mask")]
            [MeanPooling("pooled", From = "x", Padding = "mask")]
        """, "[Features(64)] Tensor<float> x, Tensor<int> mask, Tensor<float> y, Tensor<float> pooled"), "AK0112", "Skip = \"mask\"");

    [Fact]
    public void AK0113_int_parameter_in_two_roles() =>
        AssertHas(Model("""
            [Embedding("h", From = "ids", Vocabulary = 100, Features = 64)]
            [MeanPooling("y", From = "h", Padding = "ids")]
        """, "Tensor<int> ids, Tensor<float> y"), "AK0113", "Padding = \"ids\"");

    [Fact]
    public void AK0114_token_type_ids_without_a_table() =>
        AssertHas(Model("""
            [Embedding("y", From = "ids", Vocabulary = 100, Features = 64, TokenTypeIds = "types")]
        """, "Tensor<int> ids, Tensor<int> types, Tensor<float> y"), "AK0114", "TokenTypeIds = \"types\"");

    [Fact]
    public void An_encoder_from_token_ids_to_embeddings_is_valid() =>
        Assert.DoesNotContain(GeneratorHarness.GeneratorDiagnostics(Model("""
            [Embedding("h", From = "ids", Vocabulary = 100, Features = 64, Positions = 16, TokenTypes = 2, TokenTypeIds = "types", Epsilon = 1e-12)]
            [MultiHeadAttention("attn", From = "h", HeadDim = 16, Heads = 4, KeyPadding = "mask")]
            [MeanPooling("pooled", From = "attn", Padding = "mask")]
            [L2Normalize("y", From = "pooled")]
        """, "Tensor<int> ids, Tensor<int> types, Tensor<int> mask, Tensor<float> y")), d => d.Severity >= DiagnosticSeverity.Warning);

    [Fact]
    public void Embedding_sizes_must_be_positive() =>
        AssertHas(Model("""
            [Embedding("y", From = "ids", Vocabulary = 0, Features = 64)]
        """, "Tensor<int> ids, Tensor<float> y"), "AK0008", "Vocabulary = 0");

    [Fact]
    public void AK0027_soft_cap_of_a_graph_attention_node_is_checked_like_a_kernels() =>
        AssertHas(Model("""
            [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, Alibi = true, SoftCap = -1)]
        """), "AK0027", "SoftCap = -1");

    [Fact]
    public void AK0021_graph_attention_modifier_not_found() =>
        AssertHas(Model("""
            [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, ScoreMod = "Missing")]
        """), "AK0021", "ScoreMod = \"Missing\"");

    [Fact]
    public void AK0022_graph_attention_modifier_with_the_wrong_signature() =>
        AssertHas("""
            using Attention.Kernels;
            [AttentionModel]
            public partial class M
            {
                private static bool Near(int batch, int query, int key) => true;

                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, MaskMod = nameof(Near))]
                public partial void Forward([Features(64)] Tensor<float> x, Tensor<float> y);
            }
            """, "AK0022", "MaskMod = nameof(Near)");

    /// <summary>A model class with modifier methods that read tensors, and one graph method of the given nodes and parameters.</summary>
    private static string ModModel(string nodes, string parameters) => $$"""
        using Attention.Kernels;
        [AttentionModel]
        public partial class M
        {
            private static float Bias<T>(float score, int batch, int head, int query, int key, T bias)
                where T : struct, IModTensor<float> => score + bias[head, key];
            private static bool Same<T>(int batch, int head, int query, int key, T documents)
                where T : struct, IModTensor<int> => documents[batch, query] == documents[batch, key];
            private static bool Span(int batch, int head, int query, int key, System.ReadOnlySpan<int> ids) => true;
            private static bool Five<T, U>(int batch, int head, int query, int key, T a, T b, T c, U d, U e)
                where T : struct, IModTensor<int> where U : struct, IModTensor<float> => true;

        {{nodes}}
            public partial void Forward({{parameters}});
        }
        """;

    [Fact]
    public void Graph_modifiers_reading_tensors_and_the_built_in_masks_are_valid() =>
        Assert.DoesNotContain(GeneratorHarness.GeneratorDiagnostics(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, ScoreMod = nameof(Bias), MaskMod = nameof(Same), DocumentIds = "ids", KeyPadding = "mask")]
                [ScaledDotProductAttention("z", From = "x", HeadDim = 16, Heads = 2, KvHeads = 1, PrefixLengths = "prefix", ScoreMod = nameof(Bias))]
            """, "[Features(64)] Tensor<float> x, Tensor<float> bias, Tensor<int> documents, Tensor<int> ids, Tensor<int> mask, Tensor<int> prefix, Tensor<float> y, Tensor<float> z")),
            d => d.Severity >= DiagnosticSeverity.Warning);

    [Fact]
    public void AK0115_graph_modifier_reads_a_tensor_the_graph_does_not_declare() =>
        Assert.Contains("'bias', which is not a parameter", AssertHas(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, ScoreMod = nameof(Bias))]
            """, "[Features(64)] Tensor<float> x, Tensor<float> y"), "AK0115", "ScoreMod = nameof(Bias)").GetMessage());

    [Fact]
    public void AK0115_graph_modifier_reads_a_nodes_value() =>
        Assert.Contains("is a node's value", AssertHas(ModModel("""
                [Linear("documents", From = "x", OutFeatures = 64)]
                [MultiHeadAttention("y", From = "documents", HeadDim = 16, Heads = 4, MaskMod = nameof(Same))]
            """, "[Features(64)] Tensor<float> x, Tensor<float> y"), "AK0115", "MaskMod = nameof(Same)").GetMessage());

    [Fact]
    public void AK0032_graph_modifier_tensor_of_the_wrong_element_type() =>
        Assert.Contains("'documents' is declared 'Tensor<float>'", AssertHas(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, MaskMod = nameof(Same))]
            """, "[Features(64)] Tensor<float> x, Tensor<float> documents, Tensor<float> y"), "AK0032", "MaskMod = nameof(Same)").GetMessage());

    [Fact]
    public void AK0033_graph_modifier_parameter_of_an_unsupported_type() =>
        AssertHas(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, MaskMod = nameof(Span))]
            """, "[Features(64)] Tensor<float> x, Tensor<float> y"), "AK0033", "MaskMod = nameof(Span)");

    [Fact]
    public void AK0034_graph_modifiers_read_more_than_four_tensors() =>
        AssertHas(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, MaskMod = nameof(Five))]
            """, "[Features(64)] Tensor<float> x, Tensor<int> a, Tensor<int> b, Tensor<int> c, Tensor<float> d, Tensor<float> e, Tensor<float> y"),
            "AK0034", "MultiHeadAttention(\"y\", From = \"x\", HeadDim = 16, Heads = 4, MaskMod = nameof(Five))");

    [Fact]
    public void AK0112_a_tensor_read_by_a_modifier_without_features_is_not_a_sequence() =>
        AssertHas(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, ScoreMod = nameof(Bias))]
                [Residual("z", From = "y", Skip = "bias")]
            """, "[Features(64)] Tensor<float> x, Tensor<float> bias, Tensor<float> z"), "AK0112", "Skip = \"bias\"");

    [Fact]
    public void AK0112_document_ids_must_be_ints() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, DocumentIds = "x")]
            """), "AK0112", "DocumentIds = \"x\"");

    [Fact]
    public void AK0113_one_int_parameter_as_document_ids_and_prefix_lengths() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, DocumentIds = "ids", PrefixLengths = "ids")]
            """, "[Features(64)] Tensor<float> x, Tensor<int> ids, Tensor<float> y"), "AK0113", "PrefixLengths = \"ids\"");

    [Fact]
    public void AK0028_prefix_lengths_with_a_built_in_mask_on_a_graph_node() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, Mask = AttentionMask.Causal, PrefixLengths = "prefix")]
            """, "[Features(64)] Tensor<float> x, Tensor<int> prefix, Tensor<float> y"), "AK0028", "Mask = AttentionMask.Causal");

    [Fact]
    public void AK0100_document_ids_naming_no_value() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, DocumentIds = "ids")]
            """), "AK0100", "DocumentIds = \"ids\"");

    // attnMask on graph nodes (docs/kernels/masks.md, "Graphs"): a Tensor<bool> or Tensor<float> parameter without [Features].

    [Fact]
    public void Boolean_and_additive_attn_masks_on_graph_nodes_are_valid() =>
        Assert.DoesNotContain(GeneratorHarness.GeneratorDiagnostics(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, AttnMask = "keep", KeyPadding = "mask", DocumentIds = "ids")]
                [ScaledDotProductAttention("z", From = "x", HeadDim = 16, Heads = 2, KvHeads = 1, AttnMask = "bias", PrefixLengths = "prefix", ScoreMod = nameof(Bias))]
            """, "[Features(64)] Tensor<float> x, Tensor<bool> keep, Tensor<float> bias, Tensor<int> ids, Tensor<int> mask, Tensor<int> prefix, Tensor<float> y, Tensor<float> z")),
            d => d.Severity >= DiagnosticSeverity.Warning);

    [Fact]
    public void AK0112_attn_mask_naming_a_sequence() =>
        Assert.Contains("must name a Tensor<bool> or Tensor<float> parameter without [Features]", AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, AttnMask = "x")]
            """), "AK0112", "AttnMask = \"x\"").GetMessage());

    [Fact]
    public void AK0112_attn_mask_naming_ints() =>
        Assert.Contains("'lengths' is a Tensor<int>", AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, AttnMask = "lengths")]
            """, "[Features(64)] Tensor<float> x, Tensor<int> lengths, Tensor<float> y"), "AK0112", "AttnMask = \"lengths\"").GetMessage());

    [Fact]
    public void AK0112_a_bool_parameter_read_as_a_sequence() =>
        Assert.Contains("'keep' is a Tensor<bool> (an attention mask)", AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, AttnMask = "keep")]
                [Residual("z", From = "y", Skip = "keep")]
            """, "[Features(64)] Tensor<float> x, Tensor<bool> keep, Tensor<float> z"), "AK0112", "Skip = \"keep\"").GetMessage());

    [Fact]
    public void AK0032_a_bool_parameter_read_by_a_modifier() =>
        Assert.Contains("'bias' is declared 'Tensor<bool>'", AssertHas(ModModel("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, ScoreMod = nameof(Bias))]
            """, "[Features(64)] Tensor<float> x, Tensor<bool> bias, Tensor<float> y"), "AK0032", "ScoreMod = nameof(Bias)").GetMessage());

    [Fact]
    public void AK0100_attn_mask_naming_no_value() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4, AttnMask = "keep")]
            """), "AK0100", "AttnMask = \"keep\"");

    [Fact]
    public void AK0105_a_bool_parameter_no_node_reads() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4)]
            """, "[Features(64)] Tensor<float> x, Tensor<bool> keep, Tensor<float> y"), "AK0105", "Tensor<bool> keep");

    [Fact]
    public void AK0107_a_bool_graph_output() =>
        AssertHas(Model("""
                [MultiHeadAttention("y", From = "x", HeadDim = 16, Heads = 4)]
            """, "[Features(64)] Tensor<float> x, Tensor<bool> y"), "AK0107", "Tensor<bool> y");
}

using Microsoft.CodeAnalysis;
using Xunit;

namespace Attention.Kernels.Generator.Tests;

/// <summary>Every diagnostic ID, with the exact source text it points at.</summary>
public sealed class DiagnosticTests
{
    private const string Parameters = "Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output";

    private static string Kernel(string attributeArguments, string signature = "public static partial void Attend(" + Parameters + ");",
        string typeModifiers = "public static partial") => $$"""
        using Attention.Kernels;
        namespace Demo;
        {{typeModifiers}} class Kernels
        {
            [ScaledDotProductAttention({{attributeArguments}})]
            {{signature}}
        }
        """;

    /// <summary>Asserts exactly one generator diagnostic <paramref name="id"/>, located on <paramref name="locatedText"/>.</summary>
    private static Diagnostic AssertSingle(string source, string id, string locatedText, bool allowUnsafe = true)
    {
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(source, allowUnsafe);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(locatedText, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.EndsWith($"docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
        return diagnostic;
    }

    [Theory]
    [InlineData("public partial void Attend(" + Parameters + ");")]          // not static
    [InlineData("public static partial int Attend(" + Parameters + ");")]    // not void
    [InlineData("public static void Attend(" + Parameters + ") { }")]        // not partial
    [InlineData("public static partial void Attend<T>(" + Parameters + ");")] // generic
    public void AK0001_method_must_be_static_partial_void(string signature) =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", signature), "AK0001", "Attend");

    [Fact]
    public void AK0002_containing_type_must_be_partial() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", typeModifiers: "public static"), "AK0002", "Attend");

    [Fact]
    public void AK0003_wrong_parameter_count() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v);"),
            "AK0003", "(Tensor<float> q, Tensor<float> k, Tensor<float> v)");

    [Fact]
    public void AK0004_wrong_parameter_type() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<float> q, Tensor<double> k, Tensor<float> v, Tensor<float> output);"),
            "AK0004", "Tensor<double> k");

    [Fact]
    public void AK0004_ref_parameter_is_rejected() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, ref Tensor<float> output);"),
            "AK0004", "ref Tensor<float> output");

    [Fact]
    public void AK0004_half_log_sum_exp_is_rejected() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<System.Half> q, Tensor<System.Half> k, Tensor<System.Half> v, Tensor<System.Half> output, Tensor<System.Half> logSumExp);"),
            "AK0004", "Tensor<System.Half> logSumExp");

    [Fact]
    public void AK0016_mixed_element_types()
    {
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<System.Half> q, Tensor<System.Half> k, Tensor<System.Half> v, Tensor<float> output);"),
            "AK0016", "Tensor<float> output");
        Assert.Contains("'q' is Tensor<Half>", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AK0016_each_disagreeing_tensor_is_reported()
    {
        string source = Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<BFloat16> q, Tensor<float> k, Tensor<System.Half> v, Tensor<BFloat16> output);");
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(source, allowUnsafe: true);
        Assert.Equal(["AK0016", "AK0016"], diagnostics.Select(d => d.Id));
        Assert.Equal(["Tensor<float> k", "Tensor<System.Half> v"],
            diagnostics.Select(d => source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)));
    }

    [Theory]
    [InlineData("System.Half")]
    [InlineData("BFloat16")]
    public void Half_and_bfloat16_storage_with_float_log_sum_exp_is_accepted(string element) =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8",
            $"public static partial void Attend(Tensor<{element}> q, Tensor<{element}> k, Tensor<{element}> v, Tensor<{element}> output, Tensor<float> logSumExp);"), true));

    [Theory]
    [InlineData("Tensor<float> output, Tensor<int> keyLengths")]
    [InlineData("Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths")]
    public void Key_lengths_after_output_or_log_sum_exp_are_accepted(string tail) =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8",
            $"public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, {tail});"), true));

    [Fact]
    public void AK0004_key_lengths_must_be_int_tensors()
    {
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> keyLengths);"),
            "AK0004", "Tensor<float> keyLengths");
        Assert.Contains("Tensor<int>", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AK0005_optional_parameters_out_of_order_say_the_order()
    {
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths, Tensor<float> logSumExp);"),
            "AK0005", "Tensor<int> keyLengths");
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("(q, k, v, output, logSumExp, keyLengths), not (q, k, v, output, keyLengths, logSumExp)", message);
    }

    [Fact]
    public void AK0005_unknown_optional_parameter_name()
    {
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> lengths);"),
            "AK0005", "Tensor<int> lengths");
        Assert.Contains("logSumExp, keyLengths", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AK0003_too_many_parameters_names_the_optional_ones() =>
        Assert.Contains("keyLengths", AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths, Tensor<bool> attnMask, Tensor<int> documentIds, Tensor<int> prefixLengths, Tensor<int> queryOffsets, Tensor<int> keyOffsets, Tensor<int> extra);"),
            "AK0003", "(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> keyLengths, Tensor<bool> attnMask, Tensor<int> documentIds, Tensor<int> prefixLengths, Tensor<int> queryOffsets, Tensor<int> keyOffsets, Tensor<int> extra)")
            .GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Varlen_offsets_are_accepted() =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> logSumExp, Tensor<int> queryOffsets, Tensor<int> keyOffsets);"), true));

    [Fact]
    public void AK0023_query_offsets_without_key_offsets() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> queryOffsets);"),
            "AK0023", "Tensor<int> queryOffsets");

    [Fact]
    public void AK0023_key_offsets_without_query_offsets() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyOffsets);"),
            "AK0023", "Tensor<int> keyOffsets");

    [Fact]
    public void AK0024_key_lengths_with_varlen_offsets() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths, Tensor<int> queryOffsets, Tensor<int> keyOffsets);"),
            "AK0024", "Tensor<int> keyLengths");

    [Fact]
    public void AK0025_varlen_with_bhtd_layout() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8, Layout = TensorLayout.BHTD",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> queryOffsets, Tensor<int> keyOffsets);"),
            "AK0025", "Layout = TensorLayout.BHTD");

    [Fact]
    public void AK0004_varlen_offsets_must_be_int_tensors() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<long> queryOffsets, Tensor<int> keyOffsets);"),
            "AK0004", "Tensor<long> queryOffsets");

    [Theory]
    [InlineData("Tensor<bool> attnMask")]
    [InlineData("Tensor<float> attnMask")]
    [InlineData("Tensor<float> logSumExp, Tensor<int> keyLengths, Tensor<bool> attnMask")]
    public void Attention_mask_tensors_are_accepted(string tail) =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8",
            $"public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, {tail});"), true));

    [Fact]
    public void AK0004_attention_mask_must_be_bool_or_float() =>
        Assert.Contains("Tensor<bool>", AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> attnMask);"),
            "AK0004", "Tensor<int> attnMask").GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void AK0026_attention_mask_with_varlen_offsets() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<bool> attnMask, Tensor<int> queryOffsets, Tensor<int> keyOffsets);"),
            "AK0026", "Tensor<bool> attnMask");

    [Theory]
    [InlineData("-1")]
    [InlineData("double.PositiveInfinity")]
    public void AK0027_soft_cap_must_be_finite_and_positive(string value) =>
        AssertSingle(Kernel($"HeadDim = 64, Heads = 8, SoftCap = {value}"), "AK0027", $"SoftCap = {value}");

    [Theory]
    [InlineData("Tensor<int> documentIds")]
    [InlineData("Tensor<int> prefixLengths")]
    [InlineData("Tensor<float> logSumExp, Tensor<int> keyLengths, Tensor<bool> attnMask, Tensor<int> documentIds, Tensor<int> prefixLengths")]
    public void Built_in_document_and_prefix_lm_masks_are_accepted(string tail) =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8",
            $"public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, {tail});"), true));

    [Fact]
    public void Document_mask_composes_with_a_causal_mask() =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> documentIds);"), true));

    [Theory]
    [InlineData("Tensor<float> documentIds")]
    [InlineData("Tensor<long> prefixLengths")]
    public void AK0004_document_ids_and_prefix_lengths_must_be_int_tensors(string parameter) =>
        Assert.Contains("Tensor<int>", AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            $"public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, {parameter});"),
            "AK0004", parameter).GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void AK0005_prefix_lengths_before_document_ids_say_the_order() =>
        Assert.Contains("documentIds, prefixLengths", AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> prefixLengths, Tensor<int> documentIds);"),
            "AK0005", "Tensor<int> prefixLengths").GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("Causal")]
    [InlineData("CausalTopLeft")]
    public void AK0028_prefix_lm_with_a_built_in_mask(string mask) =>
        AssertSingle(Kernel($"HeadDim = 64, Heads = 8, Mask = AttentionMask.{mask}",
            "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> prefixLengths);"),
            "AK0028", $"Mask = AttentionMask.{mask}");

    [Theory]
    [InlineData("documentIds")]
    [InlineData("prefixLengths")]
    public void AK0029_document_or_prefix_lm_mask_with_varlen_offsets(string name) =>
        Assert.Contains(name, AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            $"public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> {name}, Tensor<int> queryOffsets, Tensor<int> keyOffsets);"),
            "AK0029", $"Tensor<int> {name}").GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void AK0030_key_padding_on_a_kernel_declaration() =>
        Assert.Contains("keyLengths", AssertSingle(Kernel("HeadDim = 64, Heads = 8, KeyPadding = \"lengths\""), "AK0030", "KeyPadding = \"lengths\"")
            .GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("DocumentIds", "Tensor<int> documentIds")]
    [InlineData("PrefixLengths", "Tensor<int> prefixLengths")]
    [InlineData("AttnMask", "Tensor<bool> (or Tensor<float>) attnMask")]
    public void AK0030_built_in_mask_values_on_a_kernel_declaration(string argument, string parameter) =>
        Assert.Contains($"'{parameter}'", AssertSingle(Kernel($"HeadDim = 64, Heads = 8, {argument} = \"ids\""), "AK0030", $"{argument} = \"ids\"")
            .GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Built_in_alibi_and_soft_cap_are_accepted() =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 12, Alibi = true, SoftCap = 50"), true));

    [Fact]
    public void AK0005_wrong_parameter_name() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<float> q, Tensor<float> v, Tensor<float> k, Tensor<float> output);"),
            "AK0005", "Tensor<float> v"); // swapped k and v must not compile

    [Fact]
    public void AK0005_misnamed_parameters_are_one_diagnostic_saying_what_is_expected()
    {
        // Three wrong names are one mistake: one diagnostic (at the first misnamed parameter), not three.
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> a, Tensor<float> b, Tensor<float> c, Tensor<float> output);"),
            "AK0005", "Tensor<float> a");
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("(q, k, v, output), not (a, b, c, output)", message);
        Assert.Contains("query, key, value", message);
    }

    [Fact]
    public void PyTorch_names_query_key_value_are_accepted_and_the_generated_body_compiles()
    {
        string source = Kernel("HeadDim = 64, Heads = 8",
            "public static partial void Attend(Tensor<float> query, Tensor<float> key, Tensor<float> value, Tensor<float> output);") + """

            public static class Caller
            {
                public static void Call(Tensor<float> a, Tensor<float> b, Tensor<float> c, Tensor<float> d) =>
                    Demo.Kernels.Attend(query: a, key: b, value: c, output: d);
            }
            """;
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Empty(result.Diagnostics);
        Assert.Contains("AttendKernel.Launch(q, k, v, output);", result.GeneratedTrees.Single().ToString());
        var problems = GeneratorHarness.CompileDiagnostics(output);
        Assert.True(problems.IsEmpty, string.Join("\n", problems));
    }

    [Theory]
    [InlineData(257)]
    [InlineData(4096)]
    public void AK0006_head_dim_out_of_range(int headDim) =>
        AssertSingle(Kernel($"HeadDim = {headDim}, Heads = 8"), "AK0006", $"HeadDim = {headDim}");

    [Fact]
    public void AK0007_heads_not_divisible_by_kv_heads() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8, KvHeads = 3"), "AK0007", "KvHeads = 3");

    [Theory]
    [InlineData("HeadDim = 0, Heads = 8", "HeadDim = 0")]
    [InlineData("HeadDim = 64, Heads = -2", "Heads = -2")]
    [InlineData("HeadDim = 64, Heads = 8, KvHeads = -1", "KvHeads = -1")]
    [InlineData("HeadDim = 64, Heads = 8, Mask = AttentionMask.SlidingWindow, Window = -4", "Window = -4")]
    public void AK0008_values_must_be_positive(string arguments, string located) =>
        AssertSingle(Kernel(arguments), "AK0008", located);

    [Fact]
    public void AK0020_missing_head_dim_points_at_the_attribute_and_says_it_is_required()
    {
        var diagnostic = AssertSingle(Kernel("Heads = 8"), "AK0020", "ScaledDotProductAttention(Heads = 8)");
        Assert.StartsWith("HeadDim is required", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AK0020_omitted_heads_is_reported_as_missing_not_as_0()
    {
        var diagnostic = AssertSingle(Kernel("HeadDim = 64"), "AK0020", "ScaledDotProductAttention(HeadDim = 64)");
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("Heads is required", message);
        Assert.DoesNotContain("is 0", message);
        Assert.Contains("[ScaledDotProductAttention]", message);
    }

    /// <summary>A kernel with modifier arguments and extra members (the mod methods) in the declaring type.</summary>
    private static string ModKernel(string modArguments, string members) => $$"""
        using Attention.Kernels;
        namespace Demo;
        public static partial class Kernels
        {
            [ScaledDotProductAttention(HeadDim = 64, Heads = 8, {{modArguments}})]
            public static partial void Attend({{Parameters}});
            {{members}}
        }
        """;

    [Fact]
    public void Valid_private_mods_are_accepted()
    {
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(ModKernel("ScoreMod = nameof(Alibi), MaskMod = nameof(Prefix)",
            "private static float Alibi(float s, int b, int h, int q, int k) => s - (q - k);\n" +
            "private static bool Prefix(int b, int h, int q, int k) => k < 7 || k <= q;"));
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void AK0021_score_mod_not_found()
    {
        var diagnostic = AssertSingle(ModKernel("ScoreMod = \"Alibi\"", ""), "AK0021", "ScoreMod = \"Alibi\"");
        Assert.Contains("static float Alibi(float score, int batch, int head, int query, int key)", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AK0021_mask_mod_naming_a_field_is_not_found() =>
        AssertSingle(ModKernel("MaskMod = nameof(Window)", "private static readonly int Window = 3;"), "AK0021", "MaskMod = nameof(Window)");

    [Theory]
    [InlineData("private float Alibi(float s, int b, int h, int q, int k) => s;")]                 // not static
    [InlineData("private static float Alibi<T>(float s, int b, int h, int q, int k) => s;")]       // generic
    [InlineData("private static double Alibi(double s, int b, int h, int q, int k) => s;")]        // wrong types
    [InlineData("private static float Alibi(float s, int h, int q, int k) => s;")]                 // no batch
    [InlineData("private static float Alibi(float s, int b, int h, int q, ref int k) => s;")]      // by ref
    public void AK0022_score_mod_with_the_wrong_signature(string member)
    {
        var diagnostic = AssertSingle(ModKernel("ScoreMod = nameof(Alibi)", member), "AK0022", "ScoreMod = nameof(Alibi)");
        Assert.Contains("static float Alibi(float score, int batch, int head, int query, int key)", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A kernel whose modifiers may read tensors: <paramref name="trailing"/> follows the standard parameters.</summary>
    private static string TensorModKernel(string modArguments, string trailing, string members) => $$"""
        using Attention.Kernels;
        namespace Demo;
        public static partial class Kernels
        {
            [ScaledDotProductAttention(HeadDim = 64, Heads = 8, {{modArguments}})]
            public static partial void Attend({{Parameters}}{{trailing}});
            {{members}}
        }
        """;

    private const string BiasMod =
        "private static float Bias<T>(float s, int b, int h, int q, int k, T bias) where T : struct, IModTensor<float> => s + bias[h, k];";

    private const string DocumentMod =
        "private static bool Same<T>(int b, int h, int q, int k, T queryIds, T keyIds) where T : struct, IModTensor<int> => queryIds[b, q] == keyIds[b, k];";

    [Fact]
    public void Mods_reading_tensors_are_accepted_and_bound_by_name()
    {
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(TensorModKernel("ScoreMod = nameof(Bias), MaskMod = nameof(Same)",
            ", Tensor<float> bias, Tensor<int> queryIds, Tensor<int> keyIds", BiasMod + "\n" + DocumentMod));
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void AK0031_mod_reads_a_tensor_the_kernel_does_not_declare()
    {
        var diagnostic = AssertSingle(TensorModKernel("ScoreMod = nameof(Bias)", "", BiasMod), "AK0031", "ScoreMod = nameof(Bias)");
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'bias'", message);
        Assert.Contains("now: none", message);
    }

    [Fact]
    public void AK0031_misspelled_tensor_lists_the_declared_ones()
    {
        // The modifier reads 'bias', the declaration has 'biases': AK0031 at the modifier; the parameter no modifier reads is
        // then an unknown standard parameter (AK0005 at it).
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(TensorModKernel("ScoreMod = nameof(Bias)", ", Tensor<float> biases", BiasMod));
        Assert.Contains(diagnostics, d => d.Id == "AK0031");
        Assert.Contains(diagnostics, d => d.Id == "AK0005");
    }

    [Fact]
    public void AK0032_mod_tensor_of_the_wrong_element_type() =>
        AssertSingle(TensorModKernel("ScoreMod = nameof(Bias)", ", Tensor<int> bias", BiasMod), "AK0032", "Tensor<int> bias");

    [Theory]
    [InlineData("private static float Bias(float s, int b, int h, int q, int k, System.ReadOnlySpan<float> bias) => s;")]
    [InlineData("private static float Bias(float s, int b, int h, int q, int k, float[] bias) => s;")]
    [InlineData("private static float Bias(float s, int b, int h, int q, int k, Tensor<float> bias) => s;")]
    public void AK0033_mod_parameter_of_an_unsupported_type(string member)
    {
        var diagnostic = AssertSingle(TensorModKernel("ScoreMod = nameof(Bias)", ", Tensor<float> bias", member), "AK0033", "ScoreMod = nameof(Bias)");
        Assert.Contains("IModTensor<float>", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AK0034_more_than_four_mod_tensors() =>
        AssertSingle(TensorModKernel("MaskMod = nameof(Five)", ", Tensor<int> a, Tensor<int> b2, Tensor<int> c, Tensor<int> d, Tensor<int> e",
            "private static bool Five<T>(int b, int h, int q, int k, T a, T b2, T c, T d, T e) where T : struct, IModTensor<int> => a[0] == e[0];"),
            "AK0034", "Tensor<int> e");

    [Fact]
    public void AK0022_mask_mod_returning_float() =>
        AssertSingle(ModKernel("MaskMod = nameof(Same)", "private static float Same(int b, int h, int q, int k) => 1;"), "AK0022", "MaskMod = nameof(Same)");

    [Fact]
    public void AK0009_window_with_a_mask_that_takes_none() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8, Mask = AttentionMask.Causal, Window = 128"), "AK0009", "Window = 128");

    [Fact]
    public void AK0009_window_with_the_top_left_causal_mask()
    {
        // CausalTopLeft is causal only (PyTorch's is_causal): a window would be silently ignored, so it is an error.
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft, Window = 16"), "AK0009", "Window = 16");
        Assert.Contains("AttentionMask.CausalTopLeft", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_top_left_causal_mask_is_accepted() =>
        Assert.Empty(GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 64, Heads = 8, Mask = AttentionMask.CausalTopLeft")));

    [Fact]
    public void AK0010_sliding_window_without_window() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8, Mask = AttentionMask.SlidingWindow"), "AK0010", "Mask = AttentionMask.SlidingWindow");

    [Fact]
    public void AK0011_unsupported_layout() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8, Layout = (TensorLayout)7"), "AK0011", "Layout = (TensorLayout)7");

    [Fact]
    public void AK0012_unsupported_mask() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8, Mask = (AttentionMask)9"), "AK0012", "Mask = (AttentionMask)9");

    [Theory]
    [InlineData("-0.5")]
    [InlineData("double.NaN")]
    [InlineData("double.PositiveInfinity")]
    public void AK0013_invalid_scale(string scale) =>
        AssertSingle(Kernel($"HeadDim = 64, Heads = 8, Scale = {scale}"), "AK0013", $"Scale = {scale}");

    [Fact]
    public void AK0014_unsafe_code_required() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8"), "AK0014", "Attend", allowUnsafe: false);

    [Fact]
    public void AK0015_too_many_heads() =>
        AssertSingle(Kernel("HeadDim = 64, Heads = 8192"), "AK0015", "Heads = 8192");

    [Fact]
    public void AK0017_second_attention_attribute_is_reported_at_it()
    {
        string source = """
            using Attention.Kernels;
            namespace Demo;
            public static partial class Kernels
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
                [ScaledDotProductAttention(HeadDim = 32, Heads = 4, Mask = AttentionMask.Causal)]
                public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
            }
            """;
        AssertSingle(source, "AK0017", "ScaledDotProductAttention(HeadDim = 32, Heads = 4, Mask = AttentionMask.Causal)");
        Assert.Empty(GeneratorHarness.CompileDiagnostics(GeneratorHarness.Run(source).Output)); // an error stub: no follow-on errors
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AK0018_hand_written_body_is_reported_at_it_and_no_CS0757(bool attributeOnTheBody)
    {
        string declaration = "public static partial void Attend(" + Parameters + ");";
        string body = "public static partial void Attend(" + Parameters + ") { }";
        string attribute = "[ScaledDotProductAttention(HeadDim = 64, Heads = 8)]";
        string source = $$"""
            using Attention.Kernels;
            namespace Demo;
            public static partial class Kernels
            {
                {{(attributeOnTheBody ? "" : attribute)}}
                {{declaration}}
                {{(attributeOnTheBody ? attribute : "")}}
                {{body}}
            }
            """;
        var diagnostic = AssertSingle(source, "AK0018", "Attend");
        Assert.Equal(source.IndexOf(body, StringComparison.Ordinal) + body.IndexOf("Attend", StringComparison.Ordinal), diagnostic.Location.SourceSpan.Start);
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratedTrees);
        Assert.DoesNotContain(GeneratorHarness.CompileDiagnostics(output), d => d.Id is "CS0757" or "CS8795");
    }

    [Fact]
    public void AK0019_attribute_on_a_local_function()
    {
        string source = """
            using Attention.Kernels;
            namespace Demo;
            public static class Kernels
            {
                public static void Run()
                {
                    [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
                    static void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output) { }
                }
            }
            """;
        AssertSingle(source, "AK0019", "ScaledDotProductAttention(HeadDim = 64, Heads = 8)");
    }

    [Fact]
    public void Non_void_return_is_one_diagnostic_without_AK0003_or_CS8795()
    {
        // A user returning the output instead of taking it: one mistake, AK0001 only, and an error stub with their signature.
        string source = Kernel("HeadDim = 64, Heads = 8", "public static partial Tensor<float> Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v);");
        AssertSingle(source, "AK0001", "Attend");
        Assert.Empty(GeneratorHarness.CompileDiagnostics(GeneratorHarness.Run(source).Output));
    }

    [Fact]
    public void Messages_show_type_names_without_global()
    {
        var diagnostic = AssertSingle(Kernel("HeadDim = 64, Heads = 8", "public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, ref Tensor<float> output);"),
            "AK0004", "ref Tensor<float> output");
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.DoesNotContain("global::", message);
        Assert.Contains("not ref Attention.Kernels.Tensor<float>", message);
    }

    [Fact]
    public void Several_mistakes_are_all_reported()
    {
        var ids = GeneratorHarness.GeneratorDiagnostics(Kernel("HeadDim = 300, Heads = 8, KvHeads = 3, Window = 5")).Select(d => d.Id).Order();
        Assert.Equal(["AK0006", "AK0007", "AK0009"], ids);
    }

    [Fact]
    public void Every_descriptor_has_a_documentation_page()
    {
        string docs = Path.Combine(RepositoryRoot(), "docs", "diagnostics");
        foreach (var descriptor in Diagnostics.DiagnosticDescriptors.All)
        {
            string page = Path.Combine(docs, descriptor.Id + ".md");
            Assert.True(File.Exists(page), $"missing {page}");
            Assert.Contains(descriptor.Id, File.ReadAllText(page));
        }
    }

    internal static string RepositoryRoot() => BuildMetadata.Get("RepositoryRoot");
}

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Attention.Kernels.Generator.Tests;

/// <summary>The generator never throws: malformed and random declarations give diagnostics, never a crash (AK0099 included).</summary>
public sealed class RobustnessTests
{
    private static readonly string[] s_values =
        ["0", "1", "-1", "7", "64", "256", "257", "int.MaxValue", "int.MinValue", "(AttentionMask)99", "(TensorLayout)(-3)",
         "double.NaN", "double.NegativeInfinity", "1e300", "0.125", "\"text\"", "null", "", "AttentionMask.Causal", "TensorLayout.BHTD"];
    private static readonly string[] s_names = ["HeadDim", "Heads", "KvHeads", "Mask", "Window", "Scale", "Layout", "Unknown"];
    private static readonly string[] s_parameters =
        ["Tensor<float> q", "Tensor<float> k", "Tensor<float> v", "Tensor<float> output", "Tensor<float> logSumExp",
         "Tensor<int> q", "float[] k", "ref Tensor<float> v", "Tensor<float>? output", "params Tensor<float>[] rest", "Tensor<float> x", "int n"];
    private static readonly string[] s_shapes =
        ["public static partial void", "static partial void", "public partial void", "public static partial int", "internal static void",
         "private static partial void", "public static partial void Generic<T>"];

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(0, 40).Select(i => new object[] { 7919 * i + 17 });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_declarations_never_crash_the_generator(int seed)
    {
        var random = new Random(seed);
        string arguments = string.Join(", ", Enumerable.Range(0, random.Next(0, 8))
            .Select(_ => $"{s_names[random.Next(s_names.Length)]} = {s_values[random.Next(s_values.Length)]}"));
        string parameters = string.Join(", ", Enumerable.Range(0, random.Next(0, 7)).Select(_ => s_parameters[random.Next(s_parameters.Length)]));
        string shape = s_shapes[random.Next(s_shapes.Length)];
        string name = shape.Contains("Generic") ? "" : " Attend";
        string source = $$"""
            using Attention.Kernels;
            {{(random.Next(2) == 0 ? "namespace N;" : "")}}
            public {{(random.Next(4) == 0 ? "" : "static partial")}} class K
            {
                [ScaledDotProductAttention({{arguments}})]
                {{shape}}{{name}}({{parameters}}){{(shape.Contains("internal") ? " { }" : ";")}}
            }
            """;
        AssertNoCrash(source);
    }

    [Theory]
    [InlineData("[ScaledDotProductAttention(HeadDim = 64, Heads = 8)] public static partial void A(Tensor<float> q, Tensor<float> k")]
    [InlineData("[ScaledDotProductAttention(HeadDim = , Heads = 8)] public static partial void A(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);")]
    [InlineData("[ScaledDotProductAttention(64, 8)] public static partial void A(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);")]
    [InlineData("[ScaledDotProductAttention(HeadDim = 64, Heads = 8)] [ScaledDotProductAttention(HeadDim = 32, Heads = 2)] public static partial void A(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);")]
    [InlineData("[ScaledDotProductAttention(HeadDim = 64, Heads = 8)] public static partial void (Tensor<float> q);")]
    [InlineData("[ScaledDotProductAttention(HeadDim = 64, Heads = 8)] public static partial void A(Tensor<float> q, Tensor<float> q, Tensor<float> v, Tensor<float> output);")]
    public void Malformed_source_never_crashes_the_generator(string member) =>
        AssertNoCrash($"using Attention.Kernels; public static partial class K {{ {member} }}");

    private static void AssertNoCrash(string source)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Assert.DoesNotContain(result.Diagnostics, d => d.Id is "AK0099" or "CS8784" or "CS8785"); // internal error / generator threw
        foreach (var tree in result.GeneratedTrees)
            Assert.DoesNotContain(tree.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error); // generated text always parses
    }
}

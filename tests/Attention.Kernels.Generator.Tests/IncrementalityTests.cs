using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Steps = Attention.Kernels.Generator.AttentionKernelsGenerator.Steps;

namespace Attention.Kernels.Generator.Tests;

/// <summary>The pipeline caches: an unrelated edit re-runs nothing downstream of parsing.</summary>
public sealed class IncrementalityTests
{
    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.CreateCompilation(SnapshotCases.All["SeveralKernelsInOneType"]);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        return (driver, compilation);
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    [Fact]
    public void Unrelated_edit_leaves_every_step_cached()
    {
        var (driver, compilation) = FirstRun();
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public class Unrelated { public int X; }",
            new CSharpParseOptions(LanguageVersion.Latest)));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.All(Reasons(result, Steps.Parse), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(Reasons(result, Steps.Analyze), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(Reasons(result, Steps.GroupByType), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }

    [Theory]
    [InlineData("EncoderBlockModel")]
    [InlineData("GraphDataMasksModel")] // modifier tensors, document ids and prefix lengths in the analyzed steps
    [InlineData("GraphAttnMaskModel")] // boolean and additive attnMasks (Tensor<bool> inputs) in the analyzed steps
    public void Unrelated_edit_leaves_the_model_pipeline_cached(string model)
    {
        var compilation = GeneratorHarness.CreateCompilation(SnapshotCases.All[model]);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public class Unrelated { }",
            new CSharpParseOptions(LanguageVersion.Latest)));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.All(Reasons(result, Steps.ParseModel), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(Reasons(result, Steps.AnalyzeModel), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(Reasons(result, Steps.GroupModelsByType), r => Assert.Contains(r, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.NotEmpty(Reasons(result, Steps.AnalyzeModel));
    }

    [Fact]
    public void Editing_an_attribute_regenerates_the_file()
    {
        var (driver, compilation) = FirstRun();
        var tree = compilation.SyntaxTrees.Single();
        var newText = tree.GetText().ToString().Replace("Heads = 8)]\n    public static partial void Self", "Heads = 4)]\n    public static partial void Self");
        Assert.NotEqual(tree.GetText().ToString(), newText);
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(newText)));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, Steps.Analyze));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, Steps.GroupByType));
        Assert.Contains("public const int Heads = 4;", result.GeneratedSources.Single().SourceText.ToString());
    }

    /// <summary>A model whose residual cannot fuse, so its analysis carries an AK0108 info.</summary>
    private const string UnfusedModel = """
        using Attention.Kernels;
        namespace Demo;
        [AttentionModel]
        public partial class M
        {
            [Linear("h", From = "x", OutFeatures = 64)]
            [Relu("r", From = "h")]
            [Residual("y", From = "h", Skip = "r")]
            public partial void Forward([Features(64)] Tensor<float> x, Tensor<float> y);
        }
        """;

    private static readonly IncrementalStepRunReason[] CachedOrUnchanged = [IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged];

    /// <summary>Runs <paramref name="source"/>, then again with <paramref name="edit"/> applied to its own file (an edit that changes no declaration).</summary>
    private static (GeneratorRunResult First, GeneratorRunResult Second, string EditedText) RunEdited(string source, Func<string, string> edit, bool allowUnsafe = true)
    {
        var compilation = GeneratorHarness.CreateCompilation(source, allowUnsafe);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        string editedText = edit(tree.GetText().ToString());
        Assert.NotEqual(tree.GetText().ToString(), editedText);
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(editedText)));
        driver = driver.RunGenerators(edited);
        return (GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single(), driver.GetRunResult().Results.Single(), editedText);
    }

    [Fact]
    public void Trivia_edit_in_the_models_own_file_with_an_AK0108_regenerates_nothing_but_moves_the_diagnostic()
    {
        // A comment and a blank line above the class: every location in the file moves, no declaration changes.
        var (first, second, editedText) = RunEdited(UnfusedModel, text => text.Replace("[AttentionModel]", "// a comment\n\n[AttentionModel]"));
        Assert.Contains(first.Diagnostics, d => d.Id == "AK0108");

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(second, Steps.ParseModel)); // locations are read here
        Assert.All(Reasons(second, Steps.AnalyzeModel), r => Assert.Contains(r, CachedOrUnchanged));
        Assert.All(Reasons(second, Steps.GroupModelsByType), r => Assert.Contains(r, CachedOrUnchanged));
        Assert.NotEmpty(Reasons(second, Steps.AnalyzeModel));

        // The diagnostics branch did re-run: the info is reported at its new place.
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(second, Steps.ModelDiagnostics));
        // (Relu and Residual both run unfused: 'h' is read by both.)
        Assert.Equal(["Relu(\"r\", From = \"h\")", "Residual(\"y\", From = \"h\", Skip = \"r\")"],
            second.Diagnostics.Where(d => d.Id == "AK0108").Select(d => editedText.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)).Order(StringComparer.Ordinal));
        Assert.Equal(first.GeneratedSources.Single().SourceText.ToString(), second.GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void Trivia_edit_in_the_kernels_own_file_regenerates_nothing()
    {
        // The kernel's own file: a comment between the attribute and the method, and one more blank line at the top.
        var (_, second, _) = RunEdited(SnapshotCases.All["SeveralKernelsInOneType"],
            text => "\n" + text.Replace("public static partial void Self", "// a comment\n    public static partial void Self"));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(second, Steps.Parse));
        Assert.All(Reasons(second, Steps.Analyze), r => Assert.Contains(r, CachedOrUnchanged));
        Assert.All(Reasons(second, Steps.GroupByType), r => Assert.Contains(r, CachedOrUnchanged));
        Assert.NotEmpty(Reasons(second, Steps.Analyze));
    }

    [Fact]
    public void Trivia_edit_in_the_own_file_of_a_kernel_with_an_error_moves_only_the_diagnostic()
    {
        // AK0014 (no unsafe code) travels in the analysis too; a comment edit must re-report it, not regenerate the stub.
        const string source = """
            using Attention.Kernels;
            public static partial class K
            {
                [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
                public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
            }
            """;
        var (_, second, editedText) = RunEdited(source, text => "// header\n" + text, allowUnsafe: false);
        Assert.All(Reasons(second, Steps.Analyze), r => Assert.Contains(r, CachedOrUnchanged));
        Assert.All(Reasons(second, Steps.GroupByType), r => Assert.Contains(r, CachedOrUnchanged));
        var error = Assert.Single(second.Diagnostics);
        Assert.Equal("AK0014", error.Id);
        Assert.StartsWith("Attend(", editedText.Substring(error.Location.SourceSpan.Start));
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_or_syntax()
    {
        var (driver, _) = FirstRun();
        var result = driver.GetRunResult().Results.Single();
        foreach (var step in new[] { Steps.Parse, Steps.Analyze, Steps.GroupByType, Steps.KernelDiagnostics })
        foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs))
            AssertNoRoslynObjects(output.Value, depth: 0);
    }

    [Theory]
    [InlineData("GraphDataMasksModel")]
    [InlineData("GraphAttnMaskModel")]
    public void Model_pipeline_holds_no_symbols_or_syntax(string model)
    {
        var compilation = GeneratorHarness.CreateCompilation(SnapshotCases.All[model]);
        var result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();
        foreach (var step in new[] { Steps.ParseModel, Steps.AnalyzeModel, Steps.GroupModelsByType })
        foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs))
            AssertNoRoslynObjects(output.Value, depth: 0);
    }

    private static void AssertNoRoslynObjects(object? value, int depth)
    {
        if (value is null || depth > 8 || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
            return;
        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location, $"pipeline holds {value.GetType()}");
        if (value is System.Collections.IEnumerable items)
        {
            foreach (var item in items)
                AssertNoRoslynObjects(item, depth + 1);
            return;
        }
        if (value.GetType().Namespace?.StartsWith("Attention.Kernels", StringComparison.Ordinal) != true && !value.GetType().Name.StartsWith("ValueTuple", StringComparison.Ordinal))
            return;
        foreach (var property in value.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0))
            AssertNoRoslynObjects(property.GetValue(value), depth + 1);
        foreach (var field in value.GetType().GetFields())
            AssertNoRoslynObjects(field.GetValue(value), depth + 1);
    }
}

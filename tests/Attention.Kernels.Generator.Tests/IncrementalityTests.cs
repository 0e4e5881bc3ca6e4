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

    [Fact]
    public void Unrelated_edit_leaves_the_model_pipeline_cached()
    {
        var compilation = GeneratorHarness.CreateCompilation(SnapshotCases.All["EncoderBlockModel"]);
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

    [Fact]
    public void Pipeline_models_hold_no_symbols_or_syntax()
    {
        var (driver, _) = FirstRun();
        var result = driver.GetRunResult().Results.Single();
        foreach (var step in new[] { Steps.Parse, Steps.Analyze, Steps.GroupByType })
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

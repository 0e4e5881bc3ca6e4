using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Attention.Kernels.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Attention.Kernels.Generator.Tests;

/// <summary>Runs the generator over source text the way the compiler does, and compiles the result.</summary>
public static class GeneratorHarness
{
    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    /// <summary>
    /// The net10.0 reference assemblies (Basic.Reference.Assemblies.Net100: what a user's project compiles against, whatever
    /// runtime runs the tests) plus the Attention.Kernels runtime.
    /// </summary>
    private static readonly ImmutableArray<MetadataReference> s_references =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(Tensor<>).Assembly.Location),
    ];

    public static CSharpCompilation CreateCompilation(string source, bool allowUnsafe = true, string path = "Kernels.cs") =>
        CSharpCompilation.Create(
            "UserAssembly",
            [CSharpSyntaxTree.ParseText(source, s_parseOptions, path)],
            s_references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                allowUnsafe: allowUnsafe,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error, // warnings as errors, like the repository
                deterministic: true));

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new AttentionKernelsGenerator().AsSourceGenerator()],
            parseOptions: s_parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns its result and the compilation with the generated files added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(string source, bool allowUnsafe = true)
    {
        var compilation = CreateCompilation(source, allowUnsafe);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>The generator's own diagnostics (AKxxxx).</summary>
    public static ImmutableArray<Diagnostic> GeneratorDiagnostics(string source, bool allowUnsafe = true) =>
        Run(source, allowUnsafe).Result.Diagnostics;

    /// <summary>Compiler errors and warnings of the user code plus generated code (generator diagnostics excluded).</summary>
    public static ImmutableArray<Diagnostic> CompileDiagnostics(Compilation output) =>
        output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
}

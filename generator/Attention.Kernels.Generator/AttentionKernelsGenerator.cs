using System.Collections.Generic;
using System.Linq;
using Attention.Kernels.Generator.Analysis;
using Attention.Kernels.Generator.Emit;
using Attention.Kernels.Generator.Model;
using Attention.Kernels.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Attention.Kernels.Generator;

/// <summary>
/// The pipeline: find annotated methods → parse into symbol-free models → analyze (validate, resolve, plan)
/// → group by declaring type → emit one file per type. Each stage is a named step so tests can check caching.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AttentionKernelsGenerator : IIncrementalGenerator
{
    public const string AttentionAttribute = "Attention.Kernels.ScaledDotProductAttentionAttribute";
    public const string ModelAttribute = "Attention.Kernels.AttentionModelAttribute";

    /// <summary>Tracking step names (asserted by the incrementality tests).</summary>
    public static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string Analyze = nameof(Analyze);
        public const string GroupByType = nameof(GroupByType);
        public const string ParseModel = nameof(ParseModel);
        public const string AnalyzeModel = nameof(AnalyzeModel);
        public const string GroupModelsByType = nameof(GroupModelsByType);
        public const string IlgpuReferenced = nameof(IlgpuReferenced);
        /// <summary>The located diagnostics of the kernels and of the models: a branch apart from the source output.</summary>
        public const string KernelDiagnostics = nameof(KernelDiagnostics);
        public const string ModelDiagnostics = nameof(ModelDiagnostics);
    }

    /// <summary>The accelerator package's entry point: when the compilation can see it, the project gets a registration.</summary>
    public const string IlgpuBackendType = "Attention.Kernels.Ilgpu.IlgpuBackend";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var allowUnsafe = context.CompilationProvider
            .Select(static (compilation, _) => compilation.Options is CSharpCompilationOptions { AllowUnsafe: true });

        // A project that references Attention.Kernels.Ilgpu gets a module initializer registering the accelerators, so
        // Device.Default and ATTENTION_KERNELS_DEVICE see them before any ILGPU type is touched. A bool: edits that do not
        // change the references leave it cached.
        var ilgpuReferenced = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(IlgpuBackendType) is not null)
            .WithTrackingName(Steps.IlgpuReferenced);
        context.RegisterSourceOutput(ilgpuReferenced, static (spc, referenced) =>
        {
            if (referenced)
                spc.AddSource(SourceEmitter.IlgpuRegistrationHintName, SourceEmitter.EmitIlgpuRegistration());
        });

        var kernels = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttentionAttribute,
                static (node, _) => node is MethodDeclarationSyntax,
                KernelParser.Parse)
            .Where(static parsed => parsed is not null)
            .Select(static (parsed, _) => parsed!)
            .WithTrackingName(Steps.Parse)
            .Combine(allowUnsafe)
            .Select(static (input, _) => KernelAnalyzer.Analyze(input.Left, input.Right));

        // Diagnostics travel apart from what the source output depends on: their locations move with every edit of the
        // declaring file (even a comment), while the declaration the file is generated from keeps none, so such an edit
        // re-reports diagnostics and regenerates nothing.
        context.RegisterSourceOutput(kernels.Select(static (k, _) => k.Diagnostics).WithTrackingName(Steps.KernelDiagnostics), Report);
        kernels = kernels.Select(static (k, _) => k.WithoutLocations()).WithTrackingName(Steps.Analyze);

        var files = kernels
            .Where(static k => k.CanEmit)
            .Collect()
            .SelectMany(static (all, _) => GroupByType(all))
            .WithTrackingName(Steps.GroupByType);

        context.RegisterSourceOutput(files, static (spc, group) =>
            spc.AddSource(SourceEmitter.HintName(group[0].TypeKey), SourceEmitter.Emit(group)));

        // [AttentionModel] classes: each graph method is parsed, analyzed and planned; one file per class.
        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => ModelParser.Parse(ctx, ct).ToEquatableArray())
            .WithTrackingName(Steps.ParseModel)
            .SelectMany(static (parsed, _) => parsed)
            .Select(static (parsed, _) => GraphAnalyzer.Analyze(parsed));

        // As for kernels: located diagnostics on their own branch, location-free declarations for the source output.
        context.RegisterSourceOutput(models.Select(static (m, _) => m.Diagnostics).WithTrackingName(Steps.ModelDiagnostics), Report);
        models = models.Select(static (m, _) => m.WithoutLocations()).WithTrackingName(Steps.AnalyzeModel);

        // A graph node attribute (other than attention, which is also a single kernel) on a class without
        // [AttentionModel], or any of them on a local function, would otherwise be silently ignored.
        foreach (string node in GraphNodeAttributes)
        {
            var misplaced = context.SyntaxProvider.ForAttributeWithMetadataName(
                "Attention.Kernels." + node + "Attribute",
                static (syntax, _) => syntax is MethodDeclarationSyntax or LocalFunctionStatementSyntax,
                (ctx, _) => ModelParser.MisplacedNode(ctx, node));
            context.RegisterSourceOutput(misplaced, Report);
        }

        var modelFiles = models
            .Where(static m => m.CanEmit)
            .Collect()
            .SelectMany(static (all, _) => all.GroupBy(m => m.TypeKey).OrderBy(g => g.Key, System.StringComparer.Ordinal).Select(g => g.ToEquatableArray()))
            .WithTrackingName(Steps.GroupModelsByType);

        context.RegisterSourceOutput(modelFiles, static (spc, group) =>
            spc.AddSource(SourceEmitter.ModelHintName(group[0].TypeKey), SourceEmitter.EmitModels(group)));
    }

    /// <summary>The node attributes that only mean something inside an [AttentionModel] class (attention only when named: unnamed, it is a single kernel).</summary>
    private static readonly string[] GraphNodeAttributes = Nodes.NodeKinds.AttributeNames.ToArray();

    /// <summary>Diagnostics travel through the pipeline as data and become Roslyn diagnostics only here.</summary>
    private static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
    }

    /// <summary>One group per declaring type, types and kernels in a stable order (deterministic output).</summary>
    private static IEnumerable<EquatableArray<KernelDeclaration>> GroupByType(IEnumerable<KernelDeclaration> kernels) =>
        kernels
            .GroupBy(k => k.TypeKey)
            .OrderBy(g => g.Key, System.StringComparer.Ordinal)
            .Select(g => g.ToEquatableArray());
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Attention.Kernels.Generator.Parsing;

/// <summary>Reads the graph methods of an [AttentionModel] class. Never throws: failures become AK0099.</summary>
internal static class ModelParser
{
    private const string NodeBase = "Attention.Kernels.GraphNodeAttribute";
    private const string AttentionNode = "Attention.Kernels.ScaledDotProductAttentionAttribute";

    public static IEnumerable<ParsedModel> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type)
            return [];
        var models = new List<ParsedModel>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var nodes = method.GetAttributes().Where(IsNodeAttribute).ToList();
            if (nodes.Count == 0 && !NeedsGeneratedBody(method, cancellationToken))
                continue; // an ordinary member; a partial method that needs a body but has no nodes is reported (AK0111)
            var syntax = method.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax(cancellationToken))
                .OfType<MethodDeclarationSyntax>()
                .FirstOrDefault(m => m.Body is null && m.ExpressionBody is null) ??
                method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (syntax is null)
                continue;
            try
            {
                models.Add(ParseMethod(method, syntax, nodes, cancellationToken));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                var location = LocationInfo.From(syntax.Identifier.GetLocation());
                models.Add(new ParsedModel(KernelParser.TypeKeyOf(method), KernelParser.NamespaceOf(method), EquatableArray<ContainingTypeInfo>.Empty,
                    EquatableArray<string>.Empty, KernelParser.ReadMethod(method, syntax), EquatableArray<ParsedGraphParameter>.Empty,
                    EquatableArray<ParsedNode>.Empty,
                    new[] { DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, location, method.Name, exception.GetType().Name + ": " + exception.Message) }.ToEquatableArray()));
            }
        }
        return models;
    }

    /// <summary>
    /// A partial method definition with no implementing part that C# requires one for (accessibility written, non-void or
    /// an out parameter): without nodes nothing implements it. A plain <c>partial void M();</c> may stay unimplemented.
    /// </summary>
    private static bool NeedsGeneratedBody(IMethodSymbol method, CancellationToken cancellationToken)
    {
        if (!method.IsPartialDefinition || method.PartialImplementationPart is not null)
            return false;
        if (!method.ReturnsVoid || method.Parameters.Any(p => p.RefKind == RefKind.Out))
            return true;
        return method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>()
            .Any(m => m.Modifiers.Any(t => t.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.PublicKeyword) || t.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.InternalKeyword) ||
                                           t.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.ProtectedKeyword) || t.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.PrivateKeyword)));
    }

    /// <summary>
    /// AK0019 for <paramref name="kind"/> on a local function (nothing reads it there); AK0110 for each
    /// <paramref name="kind"/> node on a method whose class is not an [AttentionModel].
    /// </summary>
    public static EquatableArray<DiagnosticInfo> MisplacedNode(GeneratorAttributeSyntaxContext context, string kind)
    {
        try
        {
            return MisplacedNodeCore(context, kind);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return new[] { DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, LocationInfo.From(context.TargetNode),
                context.TargetSymbol.Name, exception.GetType().Name + ": " + exception.Message) }.ToEquatableArray();
        }
    }

    private static EquatableArray<DiagnosticInfo> MisplacedNodeCore(GeneratorAttributeSyntaxContext context, string kind)
    {
        if (context.TargetNode is not MethodDeclarationSyntax)
        {
            // A local function: neither a kernel nor a graph node can be declared there.
            return context.Attributes
                .Select(a => DiagnosticInfo.Create(DiagnosticDescriptors.LocalFunction,
                    LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax()) ?? LocationInfo.From(context.TargetNode),
                    kind, kind == "ScaledDotProductAttention" && a.ConstructorArguments.Length == 0 ? "kernel" : "graph node"))
                .ToEquatableArray();
        }
        var type = context.TargetSymbol.ContainingType;
        if (type is null || type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KernelParser.ModelAttribute))
            return EquatableArray<DiagnosticInfo>.Empty;
        return context.Attributes
            .Where(a => kind != "ScaledDotProductAttention" || a.ConstructorArguments.Length > 0)
            .Select(a => DiagnosticInfo.Create(DiagnosticDescriptors.NodeOutsideModel,
                LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax()) ?? LocationInfo.From(context.TargetNode),
                kind, context.TargetSymbol.Name, type.Name))
            .ToEquatableArray();
    }

    private static bool IsNodeAttribute(AttributeData attribute)
    {
        for (var type = attribute.AttributeClass; type is not null; type = type.BaseType)
        {
            string name = type.ToDisplayString();
            if (name == NodeBase || name == AttentionNode)
                return true;
        }
        return false;
    }

    private static ParsedModel ParseMethod(IMethodSymbol method, MethodDeclarationSyntax syntax, List<AttributeData> attributes, CancellationToken cancellationToken)
    {
        var (containingTypes, nonPartial) = KernelParser.ReadContainingTypes(syntax);

        var parameters = new List<ParsedGraphParameter>();
        for (int i = 0; i < method.Parameters.Length; i++)
        {
            var parameter = method.Parameters[i];
            var kind = parameter.RefKind != RefKind.None || parameter.IsParams ? ParameterKind.Other : KindOf(parameter.Type);
            int features = parameter.GetAttributes()
                .Where(a => a.AttributeClass?.ToDisplayString() == "Attention.Kernels.FeaturesAttribute")
                .Select(a => a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int n ? n : -1)
                .FirstOrDefault();
            var parameterSyntax = i < syntax.ParameterList.Parameters.Count ? syntax.ParameterList.Parameters[i] : null;
            parameters.Add(new ParsedGraphParameter(parameter.Name, KernelParser.ParameterType(parameter), kind, features, LocationInfo.From(parameterSyntax)));
        }

        // Nodes in source order (the order of the attribute lists), which also orders the generated stages.
        var nodes = new List<ParsedNode>();
        foreach (var attribute in attributes.OrderBy(a => a.ApplicationSyntaxReference?.Span.Start ?? 0))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            string kind = attribute.AttributeClass?.Name ?? "";
            if (kind.EndsWith("Attribute", StringComparison.Ordinal))
                kind = kind.Substring(0, kind.Length - "Attribute".Length);
            string name = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string n ? n : "";
            var arguments = new List<NodeArgument>();
            var mods = new List<ParsedMod>();
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Value.Kind == TypedConstantKind.Error)
                    continue;
                var argumentSyntax = attributeSyntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key);
                var location = LocationInfo.From((SyntaxNode?)argumentSyntax ?? attributeSyntax);
                arguments.Add(new NodeArgument(named.Key, named.Value.Value as string, KernelParser.Number(named.Value.Value), location));
                // Score and mask modifiers are methods of the model class, judged here where the symbols are (as for kernels).
                // A modifier may read tensors (parameters after key), bound by name to the graph method's parameters.
                if (named.Key is KernelParser.ScoreModArgument or KernelParser.MaskModArgument && named.Value.Value is string mod)
                {
                    var (status, tensors) = KernelParser.ModOf(method.ContainingType, mod, named.Key == KernelParser.ScoreModArgument, allowTensors: true);
                    mods.Add(new ParsedMod(named.Key, mod, status, method.ContainingType?.Name ?? "", location, tensors));
                }
            }
            nodes.Add(new ParsedNode(kind, name, arguments.ToEquatableArray(), LocationInfo.From(attributeSyntax), mods.ToEquatableArray()));
        }

        return new ParsedModel(KernelParser.TypeKeyOf(method), KernelParser.NamespaceOf(method), containingTypes.ToEquatableArray(),
            nonPartial.ToEquatableArray(), KernelParser.ReadMethod(method, syntax), parameters.ToEquatableArray(), nodes.ToEquatableArray(),
            EquatableArray<DiagnosticInfo>.Empty);
    }

    private static ParameterKind KindOf(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { Name: "Tensor", Arity: 1 } named && named.ContainingNamespace?.ToDisplayString() == "Attention.Kernels")
        {
            return named.TypeArguments[0].SpecialType switch
            {
                SpecialType.System_Single => ParameterKind.FloatTensor,
                SpecialType.System_Int32 => ParameterKind.IntTensor,
                SpecialType.System_Boolean => ParameterKind.BoolTensor,
                _ => ParameterKind.Other,
            };
        }
        return ParameterKind.Other;
    }
}

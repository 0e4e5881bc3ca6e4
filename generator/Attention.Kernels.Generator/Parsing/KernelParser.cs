using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Attention.Kernels.Generator.Diagnostics;
using Attention.Kernels.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Attention.Kernels.Generator.Parsing;

/// <summary>Reads an annotated method into a <see cref="ParsedKernel"/>. Never throws: failures become AK0099.</summary>
internal static class KernelParser
{
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static ParsedKernel? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.TargetNode is not MethodDeclarationSyntax syntax)
            return null;
        // Source order: the first attribute is the kernel; any further one is reported (AK0017), never silently ignored.
        var attributes = context.Attributes.OrderBy(a => a.ApplicationSyntaxReference?.Span.Start ?? 0).ToList();
        var attribute = attributes.FirstOrDefault();
        if (IsGraphNode(method, attribute))
            return null; // a node of an [AttentionModel] graph: the model pipeline reads it
        string attributeName = attribute?.AttributeClass?.Name ?? "ScaledDotProductAttentionAttribute";
        if (attributeName.EndsWith("Attribute", StringComparison.Ordinal))
            attributeName = attributeName.Substring(0, attributeName.Length - "Attribute".Length);
        var attributeSyntax = attribute?.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        try
        {
            var parsed = ParseCore(method, syntax, attribute, attributeSyntax, attributeName, cancellationToken);
            if (attributes.Count < 2)
                return parsed;
            var duplicates = attributes.Skip(1).Select(a => DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateAttention,
                LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax(cancellationToken)) ?? parsed.Method.Location, method.Name, attributeName));
            return parsed with { Diagnostics = parsed.Diagnostics.Concat(duplicates).ToEquatableArray() };
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception exception)
        {
            // The generator must never crash the build: an unexpected failure is reported where it happened.
            var location = LocationInfo.From(attributeSyntax) ?? LocationInfo.From(syntax.Identifier.GetLocation());
            return new ParsedKernel(attributeName, "", null, EquatableArray<ContainingTypeInfo>.Empty, EquatableArray<string>.Empty,
                new ParsedMethod(method.Name, "", false, false, false, false, location, null),
                EquatableArray<ParsedParameter>.Empty, EquatableArray<AttributeArgument>.Empty, location,
                new[] { DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, location, method.Name, exception.GetType().Name + ": " + exception.Message) }.ToEquatableArray());
        }
    }

    internal const string ModelAttribute = "Attention.Kernels.AttentionModelAttribute";

    private static bool IsGraphNode(IMethodSymbol method, AttributeData? attribute) =>
        attribute?.ConstructorArguments.Length > 0 ||
        method.ContainingType?.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ModelAttribute) == true;

    /// <summary>The enclosing type declarations (outermost first) and the names of those not declared partial.</summary>
    internal static (List<ContainingTypeInfo> Types, List<string> NonPartial) ReadContainingTypes(SyntaxNode member)
    {
        var containingTypes = new List<ContainingTypeInfo>();
        var nonPartial = new List<string>();
        for (var type = member.Parent as TypeDeclarationSyntax; type is not null; type = type.Parent as TypeDeclarationSyntax)
        {
            containingTypes.Insert(0, new ContainingTypeInfo(TypeKeyword(type), type.Identifier.ValueText + (type.TypeParameterList?.ToString() ?? "")));
            if (!type.Modifiers.Any(SyntaxKind.PartialKeyword))
                nonPartial.Add(type.Identifier.ValueText);
        }
        return (containingTypes, nonPartial);
    }

    /// <summary>The method's shape as data, with its declared accessibility tokens.</summary>
    internal static ParsedMethod ReadMethod(IMethodSymbol method, MethodDeclarationSyntax syntax)
    {
        string modifiers = string.Join(" ", syntax.Modifiers
            .Where(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) ||
                        m.IsKind(SyntaxKind.ProtectedKeyword) || m.IsKind(SyntaxKind.PrivateKeyword))
            .Select(m => m.ValueText));
        string returnType = (method.ReturnsByRefReadonly ? "ref readonly " : method.ReturnsByRef ? "ref " : "") + method.ReturnType.ToDisplayString(s_typeFormat);
        return new ParsedMethod(method.Name, modifiers, method.IsStatic, method.IsPartialDefinition, method.ReturnsVoid, method.IsGenericMethod,
            LocationInfo.From(syntax.Identifier.GetLocation()), LocationInfo.From(syntax.ParameterList), returnType, BodyLocation(method, syntax));
    }

    /// <summary>
    /// Where the user wrote a body for this partial method: the implementing declaration of a definition, or this
    /// declaration when it is itself the implementing part (the attribute was written there). Null when there is none.
    /// </summary>
    private static LocationInfo? BodyLocation(IMethodSymbol method, MethodDeclarationSyntax syntax)
    {
        if (method.PartialImplementationPart is { } implementation)
        {
            return implementation.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<MethodDeclarationSyntax>()
                .Select(m => LocationInfo.From(m.Identifier.GetLocation())).FirstOrDefault();
        }
        return method.PartialDefinitionPart is not null ? LocationInfo.From(syntax.Identifier.GetLocation()) : null;
    }

    internal static string? NamespaceOf(IMethodSymbol method)
    {
        var ns = method.ContainingType?.ContainingNamespace;
        return ns is null || ns.IsGlobalNamespace ? null : ns.ToDisplayString();
    }

    internal static string TypeKeyOf(IMethodSymbol method) =>
        method.ContainingType?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) ?? "";

    internal static string ParameterType(IParameterSymbol parameter) => RefPrefix(parameter) + parameter.Type.ToDisplayString(s_typeFormat);

    private static ParsedKernel ParseCore(IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeData? attribute,
        AttributeSyntax? attributeSyntax, string attributeName, CancellationToken cancellationToken)
    {
        var (containingTypes, nonPartial) = ReadContainingTypes(syntax);
        string? namespaceName = NamespaceOf(method);
        string typeKey = TypeKeyOf(method);
        var parsedMethod = ReadMethod(method, syntax);

        var parameters = new List<ParsedParameter>();
        for (int i = 0; i < method.Parameters.Length; i++)
        {
            var parameter = method.Parameters[i];
            var parameterSyntax = i < syntax.ParameterList.Parameters.Count ? syntax.ParameterList.Parameters[i] : null;
            parameters.Add(new ParsedParameter(
                parameter.Name,
                ParameterType(parameter),
                parameter.RefKind == RefKind.None && !parameter.IsParams ? TensorElement(parameter.Type) : null,
                LocationInfo.From(parameterSyntax),
                parameter.RefKind == RefKind.None && !parameter.IsParams && IsTensorOf(parameter.Type, SpecialType.System_Int32),
                parameter.RefKind == RefKind.None && !parameter.IsParams && IsTensorOf(parameter.Type, SpecialType.System_Boolean)));
        }

        var arguments = new List<AttributeArgument>();
        if (attribute is not null)
        {
            foreach (var named in attribute.NamedArguments)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (named.Value.Kind == TypedConstantKind.Error || named.Value.Value is null)
                    continue; // the compiler already reports malformed arguments
                double? value = Number(named.Value.Value);
                if (value is null)
                    continue;
                var argumentSyntax = attributeSyntax?.ArgumentList?.Arguments
                    .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key);
                arguments.Add(new AttributeArgument(named.Key, value.Value, LocationInfo.From((SyntaxNode?)argumentSyntax ?? attributeSyntax)));
            }
        }

        var mods = new List<ParsedMod>();
        if (attribute is not null)
        {
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key is not (ScoreModArgument or MaskModArgument) || named.Value.Kind == TypedConstantKind.Error || named.Value.Value is not string name)
                    continue; // null (the default) means no modifier
                var argumentSyntax = attributeSyntax?.ArgumentList?.Arguments
                    .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key);
                var (status, tensors) = ModOf(method.ContainingType, name, named.Key == ScoreModArgument, allowTensors: true);
                mods.Add(new ParsedMod(named.Key, name, status,
                    method.ContainingType?.Name ?? "", LocationInfo.From((SyntaxNode?)argumentSyntax ?? attributeSyntax), tensors));
            }
        }

        // KeyPadding, DocumentIds, PrefixLengths and AttnMask name graph values; a declaration takes the tensor as a trailing parameter
        // instead (AK0030, never silently ignored).
        var diagnostics = new List<DiagnosticInfo>();
        if (attribute is not null)
        {
            foreach (var named in attribute.NamedArguments)
            {
                string? parameter = named.Key switch
                {
                    "KeyPadding" => "Tensor<int> keyLengths",
                    "DocumentIds" => "Tensor<int> documentIds",
                    "PrefixLengths" => "Tensor<int> prefixLengths",
                    "AttnMask" => "Tensor<bool> (or Tensor<float>) attnMask",
                    _ => null,
                };
                if (parameter is null || named.Value.Kind == TypedConstantKind.Error || named.Value.Value is null)
                    continue;
                var argumentSyntax = attributeSyntax?.ArgumentList?.Arguments
                    .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == named.Key);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KeyPaddingOnDeclaration,
                    LocationInfo.From((SyntaxNode?)argumentSyntax ?? attributeSyntax), method.Name, named.Key, parameter));
            }
        }

        return new ParsedKernel(attributeName, typeKey, namespaceName, containingTypes.ToEquatableArray(), nonPartial.ToEquatableArray(),
            parsedMethod, parameters.ToEquatableArray(), arguments.ToEquatableArray(), LocationInfo.From(attributeSyntax),
            diagnostics.ToEquatableArray(), mods.ToEquatableArray());
    }

    internal const string ScoreModArgument = "ScoreMod";
    internal const string MaskModArgument = "MaskMod";

    /// <summary>
    /// Whether <paramref name="type"/> declares a method <paramref name="name"/> usable as a score modifier
    /// (<c>static float M(float, int, int, int, int)</c>) or a mask modifier (<c>static bool M(int, int, int, int)</c>):
    /// static, non-generic, by-value parameters of exactly those types (names free). Any accessibility works: the
    /// generated kernel struct is nested in <paramref name="type"/>, so it may call private methods. With
    /// <paramref name="allowTensors"/> (kernel declarations and graph attention nodes alike), the method may also take, after <c>key</c>, one
    /// parameter per tensor it reads (docs/kernels/mods.md), each of its own type parameter constrained to
    /// <c>IModTensor&lt;int&gt;</c> or <c>IModTensor&lt;float&gt;</c>; those parameters come back (an unsupported type is
    /// recorded as such, for AK0033). A generic method whose type parameters are not exactly those is of the wrong signature.
    /// </summary>
    internal static (ModStatus Status, EquatableArray<ParsedModTensor> Tensors) ModOf(INamedTypeSymbol? type, string name, bool score, bool allowTensors)
    {
        var candidates = type?.GetMembers(name).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        if (candidates is null || candidates.Count == 0)
            return (ModStatus.NotFound, EquatableArray<ParsedModTensor>.Empty);
        var returnType = score ? SpecialType.System_Single : SpecialType.System_Boolean;
        int standard = score ? 5 : 4;
        foreach (var candidate in candidates)
        {
            if (!candidate.IsStatic || candidate.ReturnsByRef || candidate.ReturnsByRefReadonly ||
                candidate.ReturnType.SpecialType != returnType || candidate.Parameters.Length < standard ||
                (!allowTensors && (candidate.IsGenericMethod || candidate.Parameters.Length != standard)))
                continue;
            bool parametersOk = true;
            for (int i = 0; i < standard; i++)
            {
                var parameter = candidate.Parameters[i];
                var expected = score && i == 0 ? SpecialType.System_Single : SpecialType.System_Int32;
                if (parameter.RefKind != RefKind.None || parameter.IsParams || parameter.Type.SpecialType != expected)
                    parametersOk = false;
            }
            var tensors = new List<ParsedModTensor>();
            var used = new HashSet<ITypeParameterSymbol>(SymbolEqualityComparer.Default);
            for (int i = standard; i < candidate.Parameters.Length; i++)
            {
                var parameter = candidate.Parameters[i];
                var kind = ModTensorKind.Unsupported;
                if (parameter.RefKind == RefKind.None && !parameter.IsParams && parameter.Type is ITypeParameterSymbol typeParameter &&
                    SymbolEqualityComparer.Default.Equals(typeParameter.DeclaringMethod, candidate))
                {
                    foreach (var constraint in typeParameter.ConstraintTypes)
                    {
                        if (constraint is INamedTypeSymbol { Name: "IModTensor", Arity: 1 } accessor &&
                            accessor.ContainingNamespace?.ToDisplayString() == "Attention.Kernels")
                        {
                            var element = accessor.TypeArguments[0].SpecialType;
                            kind = element == SpecialType.System_Int32 ? ModTensorKind.Int
                                : element == SpecialType.System_Single ? ModTensorKind.Float : kind;
                        }
                    }
                }
                if (kind != ModTensorKind.Unsupported)
                    used.Add((ITypeParameterSymbol)parameter.Type); // one type parameter may serve several tensors of its element type
                tensors.Add(new ParsedModTensor(parameter.Name, kind, ParameterType(parameter)));
            }
            // Every type parameter must be one tensor parameter's type (inferred from the argument); any other is the wrong signature.
            if (candidate.TypeParameters.Any(t => !used.Contains(t)))
                parametersOk = false;
            if (parametersOk)
                return (ModStatus.Valid, tensors.ToEquatableArray());
        }
        return (ModStatus.WrongSignature, EquatableArray<ParsedModTensor>.Empty);
    }

    /// <summary>A numeric attribute value (enums arrive as their integer, bools as 0/1); null for anything else.</summary>
    internal static double? Number(object? value) => value switch
    {
        int i => i,
        double d => d,
        float f => f,
        long l => l,
        short s => s,
        byte b => b,
        bool flag => flag ? 1 : 0,
        _ => null,
    };

    /// <summary>The modifiers that must be repeated on the implementing declaration.</summary>
    private static string RefPrefix(IParameterSymbol parameter) =>
        (parameter.IsParams ? "params " : "") + parameter.RefKind switch
        {
            RefKind.Ref => "ref ",
            RefKind.Out => "out ",
            RefKind.In => "in ",
            RefKind.RefReadOnlyParameter => "ref readonly ",
            _ => "",
        };

    /// <summary>The storage type of an <c>Attention.Kernels.Tensor&lt;T&gt;</c> with T = float, System.Half or Attention.Kernels.BFloat16; else null.</summary>
    private static ElementType? TensorElement(ITypeSymbol type)
    {
        if (type is not INamedTypeSymbol { Name: "Tensor", Arity: 1 } named || named.ContainingNamespace?.ToDisplayString() != "Attention.Kernels")
            return null;
        var element = named.TypeArguments[0];
        if (element.SpecialType == SpecialType.System_Single)
            return ElementType.Float32;
        return element.ToDisplayString() switch
        {
            "System.Half" => ElementType.Float16,
            "Attention.Kernels.BFloat16" => ElementType.BFloat16,
            _ => null,
        };
    }

    /// <summary>True for <c>Attention.Kernels.Tensor&lt;T&gt;</c> with T of <paramref name="element"/> (int, bool).</summary>
    private static bool IsTensorOf(ITypeSymbol type, SpecialType element) =>
        type is INamedTypeSymbol { Name: "Tensor", Arity: 1 } named && named.ContainingNamespace?.ToDisplayString() == "Attention.Kernels" &&
        named.TypeArguments[0].SpecialType == element;

    private static string TypeKeyword(TypeDeclarationSyntax type) => type switch
    {
        RecordDeclarationSyntax record when record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
        RecordDeclarationSyntax => "record",
        _ => type.Keyword.ValueText,
    };
}

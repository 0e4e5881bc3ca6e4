using System.Linq;

namespace Attention.Kernels.Generator.Model;

/// <summary>One enclosing type of a kernel method, as needed to re-open it with a partial declaration.</summary>
/// <param name="Keyword">"class", "struct", "record", "record struct" or "interface".</param>
/// <param name="Name">Name with its type-parameter list, e.g. <c>Cache&lt;T&gt;</c>.</param>
internal sealed record ContainingTypeInfo(string Keyword, string Name);

/// <summary>A parameter of the kernel method exactly as declared (its type fully qualified), for the implementing declaration.</summary>
internal sealed record ParameterInfo(string Name, string Type);

/// <summary>The user's partial method, as needed to write its implementing part.</summary>
/// <param name="Modifiers">The declared accessibility tokens, e.g. "public" or "" when none was written.</param>
/// <param name="ReturnType">The declared return type (fully qualified; "void" for a valid kernel), for the error stub.</param>
/// <param name="IsStatic">Whether the declaration is static (a valid kernel is), for the error stub.</param>
internal sealed record KernelMethodInfo(string Name, string Modifiers, EquatableArray<ParameterInfo> Parameters,
    string ReturnType = "void", bool IsStatic = true);

/// <summary>
/// Everything the generator knows about one annotated method after parsing and analysis: where to emit
/// (namespace, enclosing types, signature), what to emit (the attention graph), and what to report.
/// Symbol-free and equatable, so an unchanged declaration is a cache hit.
/// </summary>
/// <param name="TypeKey">Fully qualified name of the declaring type: kernels are grouped into one file per type.</param>
/// <param name="CanEmit">False when the declaration cannot be implemented at all (not partial, wrong shape).</param>
internal sealed record KernelDeclaration(
    string TypeKey,
    string? Namespace,
    EquatableArray<ContainingTypeInfo> ContainingTypes,
    KernelMethodInfo Method,
    AttentionGraph Graph,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool CanEmit)
{
    /// <summary>This declaration with location-free diagnostics: what the source output depends on (see the pipeline).</summary>
    public KernelDeclaration WithoutLocations() => this with { Diagnostics = Diagnostics.Select(d => d.WithoutLocation()).ToEquatableArray() };

    public bool HasErrors
    {
        get
        {
            foreach (var diagnostic in Diagnostics)
            {
                if (diagnostic.IsError)
                    return true;
            }
            return false;
        }
    }
}

using System.Linq;
using Microsoft.CodeAnalysis;
using Attention.Kernels.Generator.Diagnostics;

namespace Attention.Kernels.Generator.Model;

/// <summary>A diagnostic as equatable data: the descriptor's ID, where, and the message arguments.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    /// <summary>A diagnostic; type names in the arguments are shown as written by users, without <c>global::</c>.</summary>
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object?[] arguments) =>
        new(descriptor.Id, location, arguments.Select(a => (a?.ToString() ?? "").Replace("global::", "")).ToEquatableArray());

    /// <summary>The same diagnostic without its location: what a model the source output depends on may keep (trivia moves locations).</summary>
    public DiagnosticInfo WithoutLocation() => Location is null ? this : this with { Location = null };

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(DiagnosticDescriptors.ById(Id), Location?.ToLocation(), Arguments.Cast<object>().ToArray());

    public bool IsError => DiagnosticDescriptors.ById(Id).DefaultSeverity == DiagnosticSeverity.Error;
}

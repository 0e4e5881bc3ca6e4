namespace System.Runtime.CompilerServices;

/// <summary>Lets netstandard2.0 code use records and init-only setters (the type ships only in newer frameworks).</summary>
internal static class IsExternalInit
{
}

using System.Reflection;

namespace Attention.Kernels.Generator.Tests;

/// <summary>Values the project file bakes into the test assembly (see the csproj).</summary>
internal static class BuildMetadata
{
    public static string Get(string key) =>
        typeof(BuildMetadata).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata '{key}' is missing.");
}

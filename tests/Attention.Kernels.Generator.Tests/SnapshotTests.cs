using Xunit;

namespace Attention.Kernels.Generator.Tests;

public sealed class SnapshotTests
{
    public static IEnumerable<object[]> Cases() => SnapshotCases.All.Keys.Order().Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_source_matches_snapshot(string name)
    {
        var (result, _) = GeneratorHarness.Run(SnapshotCases.All[name]);
        Assert.Empty(result.Diagnostics.Where(d => d.Severity > Microsoft.CodeAnalysis.DiagnosticSeverity.Info));
        var source = Assert.Single(result.GeneratedTrees);
        Snapshot.Verify(source.GetText().ToString(), name);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_source_compiles_with_warnings_as_errors(string name)
    {
        var (result, output) = GeneratorHarness.Run(SnapshotCases.All[name]);
        Assert.Empty(result.Diagnostics.Where(d => d.Severity > Microsoft.CodeAnalysis.DiagnosticSeverity.Info));
        var problems = GeneratorHarness.CompileDiagnostics(output);
        Assert.True(problems.IsEmpty, string.Join("\n", problems));
    }

    [Fact]
    public void Output_is_deterministic()
    {
        string source = string.Join("\n", SnapshotCases.All["CausalGqa"], "");
        string first = GeneratorHarness.Run(source).Result.GeneratedTrees.Single().ToString();
        string second = GeneratorHarness.Run(source).Result.GeneratedTrees.Single().ToString();
        Assert.Equal(first, second);
    }

    [Fact]
    public void Declaration_with_errors_gets_a_throwing_body_and_no_follow_on_compiler_error()
    {
        const string source = """
            using Attention.Kernels;
            public static partial class K
            {
                [ScaledDotProductAttention(HeadDim = 999, Heads = 8)]
                public static partial void Broken(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
            }
            """;
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Equal("AK0006", Assert.Single(result.Diagnostics).Id);
        Assert.Contains("throw new global::System.InvalidOperationException", result.GeneratedTrees.Single().ToString());
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output)); // no CS8795 "partial method must have an implementation"
    }
}

public sealed class SnapshotAssertionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ak-snapshot").FullName;
    private string Snapshots => Path.Combine(_directory, "Snapshots");

    [Fact]
    public void Mismatch_fails_writes_received_file_and_shows_the_differing_line()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "Snapshots"));
        File.WriteAllText(Path.Combine(_directory, "Snapshots", "case.verified.cs"), "a\nb\nc\n");
        var error = Assert.ThrowsAny<Exception>(() => Snapshot.VerifyIn(Snapshots, "a\nB\nc\n", "case", accept: false));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("+ B", error.Message);
        Assert.Equal("a\nB\nc\n", File.ReadAllText(Path.Combine(_directory, "Snapshots", "case.received.cs")));
    }

    [Fact]
    public void Match_passes_and_removes_a_stale_received_file()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "Snapshots"));
        File.WriteAllText(Path.Combine(_directory, "Snapshots", "case.verified.cs"), "same\n");
        File.WriteAllText(Path.Combine(_directory, "Snapshots", "case.received.cs"), "old\n");
        Snapshot.VerifyIn(Snapshots, "same\n", "case", accept: false);
        Assert.False(File.Exists(Path.Combine(_directory, "Snapshots", "case.received.cs")));
    }

    [Fact]
    public void Accept_replaces_the_verified_file()
    {
        Snapshot.VerifyIn(Snapshots, "new\n", "case", accept: true);
        Assert.Equal("new\n", File.ReadAllText(Path.Combine(Snapshots, "case.verified.cs")));
    }

    [Fact]
    public void Missing_snapshot_fails()
    {
        Assert.ThrowsAny<Exception>(() => Snapshot.VerifyIn(Snapshots, "text", "missing", accept: false));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

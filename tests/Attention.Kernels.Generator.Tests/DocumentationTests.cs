using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Attention.Kernels.Generator.Tests;

/// <summary>What the runtime's XML docs promise about generated members, checked against what the generator emits.</summary>
public sealed class DocumentationTests
{
    /// <summary>The XML doc summary of <paramref name="member"/> (e.g. <c>T:Attention.Kernels.MultiHeadAttentionAttribute</c>) as users read it.</summary>
    private static XElement DocSummary(string member)
    {
        string xml = Path.ChangeExtension(typeof(Tensor<>).Assembly.Location, ".xml");
        Assert.True(File.Exists(xml), $"the runtime's documentation file {xml} is missing");
        var element = XDocument.Load(xml).Descendants("member").SingleOrDefault(m => (string?)m.Attribute("name") == member);
        Assert.True(element is not null, $"{member} has no XML doc");
        return element!.Element("summary")!;
    }

    /// <summary>(node, name) of every weight in the generated layout, from <c>new("node", "name", …)</c> entries.</summary>
    private static (string Node, string Name)[] GeneratedWeights(string source)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.Empty(result.Diagnostics.Where(d => d.Severity > Microsoft.CodeAnalysis.DiagnosticSeverity.Info));
        string generated = result.GeneratedTrees.Single().ToString();
        return Regex.Matches(generated, "new\\(\"([^\"]+)\", \"([^\"]+)\", new\\[\\]")
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToArray();
    }

    [Fact]
    public void MultiHeadAttention_weights_are_registered_under_the_names_its_docs_give()
    {
        // The docs name the weights as <c>{name}.qkv</c> and <c>{name}.out</c>, each with <c>weight</c> and <c>bias</c>.
        var summary = DocSummary("T:Attention.Kernels.MultiHeadAttentionAttribute");
        var code = summary.Descendants("c").Select(c => c.Value).ToArray();
        string[] documentedNodes = code.Where(c => c.StartsWith("{name}.", StringComparison.Ordinal) && !c.Contains('(')).Select(c => c.Replace("{name}", "attn")).Distinct().ToArray();
        string[] documentedNames = code.Where(c => c is "weight" or "bias").Distinct().ToArray();
        Assert.Equal(["attn.qkv", "attn.out"], documentedNodes);
        Assert.Equal(["weight", "bias"], documentedNames);

        var weights = GeneratedWeights("""
            using Attention.Kernels;
            [AttentionModel]
            public partial class M
            {
                [MultiHeadAttention("attn", From = "x", Heads = 4, KvHeads = 2, HeadDim = 16)]
                public partial void Forward([Features(64)] Tensor<float> x, Tensor<float> attn);
            }
            """);
        // Every weight of the block is one the docs name, and every documented one exists (so Load("attn.out", "weight", …) works).
        Assert.Equal(documentedNodes.SelectMany(n => documentedNames.Select(w => (n, w))).Order(), weights.Order());
    }
}

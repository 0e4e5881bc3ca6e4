using Attention.Kernels.Benchmarks;
using Xunit;

namespace Attention.Kernels.Tests.Benchmarks;

/// <summary>One command's section inside another command's page: replaced in place, inserted once, kept verbatim.</summary>
public class DocsSectionTests
{
    private static readonly string NL = Environment.NewLine;
    private static readonly string Page = $"# Performance{NL}{NL}## Rows{NL}{NL}| a |{NL}{NL}## Method{NL}{NL}- how{NL}";

    [Fact]
    public void A_page_without_the_section_gets_it_before_the_heading_once()
    {
        string section = DocsSection.Wrap("minilm", $"## Model{NL}{NL}table 1");
        string page = DocsSection.Replace(Page, "minilm", section, "## Method");

        Assert.True(page.IndexOf("table 1", StringComparison.Ordinal) < page.IndexOf("## Method", StringComparison.Ordinal));
        Assert.True(page.IndexOf("| a |", StringComparison.Ordinal) < page.IndexOf("table 1", StringComparison.Ordinal));
        Assert.Equal(section, DocsSection.Find(page, "minilm"));

        // Writing a newer table replaces the old one; nothing else in the page moves.
        string newer = DocsSection.Replace(page, "minilm", DocsSection.Wrap("minilm", $"## Model{NL}{NL}table 2"), "## Method");
        Assert.DoesNotContain("table 1", newer);
        Assert.Single(newer.Split("table 2")[1..]);
        Assert.Equal(page.Replace("table 1", "table 2"), newer);
    }

    [Fact]
    public void A_page_without_the_heading_gets_the_section_at_the_end_and_a_missing_section_reads_null()
    {
        Assert.Null(DocsSection.Find(Page, "minilm"));
        Assert.Null(DocsSection.Read(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".md"), "minilm"));
        string page = DocsSection.Replace($"# Only a title{NL}", "minilm", DocsSection.Wrap("minilm", "x"), "## Method");
        Assert.StartsWith("# Only a title", page);
        Assert.EndsWith(DocsSection.Wrap("minilm", "x"), page);
    }
}

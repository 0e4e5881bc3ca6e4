namespace Attention.Kernels.Benchmarks;

/// <summary>
/// A generated section that one command owns inside a page another command writes. docs/performance.md is the
/// <c>compare</c> command's page, but the real model's table in it comes from the <c>minilm</c> command: each command
/// rewrites only what it measured, so rerunning one never erases the other's numbers or leaves them stale.
/// </summary>
public static class DocsSection
{
    private static string Begin(string name) => $"<!-- section {name}: begin (written by the {name} command) -->";
    private static string End(string name) => $"<!-- section {name}: end -->";

    /// <summary>The section's content with its markers, or null when <paramref name="page"/> has none.</summary>
    public static string? Find(string page, string name)
    {
        int begin = page.IndexOf(Begin(name), StringComparison.Ordinal);
        int end = page.IndexOf(End(name), StringComparison.Ordinal);
        return begin < 0 || end < begin ? null : page[begin..(end + End(name).Length)] + Environment.NewLine;
    }

    /// <summary>Reads the section from a page on disk (null when the file or the section is missing).</summary>
    public static string? Read(string path, string name) => File.Exists(path) ? Find(File.ReadAllText(path), name) : null;

    /// <summary>Wraps freshly generated markdown in the section's markers.</summary>
    public static string Wrap(string name, string markdown) =>
        Begin(name) + Environment.NewLine + markdown.TrimEnd() + Environment.NewLine + End(name) + Environment.NewLine;

    /// <summary>
    /// <paramref name="page"/> with the section replaced by <paramref name="section"/> (already wrapped); a page without it
    /// gets it before the heading <paramref name="beforeHeading"/>, or at the end.
    /// </summary>
    public static string Replace(string page, string name, string section, string beforeHeading)
    {
        if (Find(page, name) is { } old)
            return page.Replace(old, section, StringComparison.Ordinal);
        int at = page.IndexOf(Environment.NewLine + beforeHeading + Environment.NewLine, StringComparison.Ordinal);
        return at < 0 ? page.TrimEnd() + Environment.NewLine + Environment.NewLine + section
                      : page[..(at + Environment.NewLine.Length)] + section + Environment.NewLine + page[(at + Environment.NewLine.Length)..];
    }
}

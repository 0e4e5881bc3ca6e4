using System;
using System.Text;

namespace Attention.Kernels.Generator.Emit;

/// <summary>A tiny indenting text writer; generated code uses \n line endings on every platform (deterministic output).</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
            _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes several lines (split on \n), each at the current indentation.</summary>
    public CodeWriter Lines(string text)
    {
        foreach (string line in text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
            Line(line);
        return this;
    }

    public CodeWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Indents the following lines one level without writing a brace (e.g. the body of a raw string literal).</summary>
    public CodeWriter Indent()
    {
        _indent++;
        return this;
    }

    /// <summary>Undoes <see cref="Indent"/>.</summary>
    public CodeWriter Unindent()
    {
        _indent = Math.Max(0, _indent - 1);
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent = Math.Max(0, _indent - 1);
        Line("}" + suffix);
        return this;
    }

    public override string ToString() => _text.ToString();
}

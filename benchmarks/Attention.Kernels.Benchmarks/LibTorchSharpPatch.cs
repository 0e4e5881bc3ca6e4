using System.Buffers.Binary;
using System.Text;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// Makes TorchSharp 0.107's native glue (<c>libLibTorchSharp.so</c>) loadable with an older libstdc++ by editing the
/// benchmark's own copy of it in the build output (the NuGet cache is never touched).
/// </summary>
/// <remarks>
/// Why: the glue was built with GCC 15 and asks for <c>GLIBCXX_3.4.32</c>; Debian 12's libstdc++ 12 stops at 3.4.30, so
/// the loader refuses the library ("version `GLIBCXX_3.4.32' not found"). The only symbol it wants from that version is
/// <c>std::ios_base_library_init()</c>, which GCC ≥ 13's &lt;iostream&gt; references only to pull libstdc++'s stream
/// initialization into the link: no relocation uses it, so nothing ever calls or reads it. Three in-place edits, each a
/// few bytes, make the loader accept it: the version requirement is marked weak (<c>VER_FLG_WEAK</c>: the loader then
/// does not insist on it), and each undefined symbol carrying that version loses the version and becomes a weak
/// reference. The patch refuses (changes nothing) if any relocation uses such a symbol, since then the code would
/// really need it. On a system whose libstdc++ has the version the edits change nothing that matters.
/// (The recipe this follows, in shared/peers/torchsharp-debian12, added a shim library defining the symbol; with no
/// relocation against it, a weak reference is enough and needs no compiler.) Pure logic, no I/O beyond the byte array,
/// so tests/Attention.Kernels.Tests compiles this file (linked) and tests it on small ELF images it builds.
/// </remarks>
internal static class LibTorchSharpPatch
{
    /// <summary>The version the glue needs and Debian 12's libstdc++ lacks.</summary>
    public const string MissingVersion = "GLIBCXX_3.4.32";

    private const uint ShtDynsym = 11, ShtRela = 4, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlagWeak = 0x2, VersionGlobal = 1;
    private const byte BindWeak = 2;

    /// <summary>What <see cref="Apply"/> did.</summary>
    public enum Outcome
    {
        /// <summary>The file asks for the version weakly already (patched before, or built so).</summary>
        AlreadyWeak,
        /// <summary>The file does not ask for the version at all.</summary>
        NotRequired,
        /// <summary>Patched in place.</summary>
        Patched,
    }

    /// <summary>Patches <paramref name="elf"/> in place so that <paramref name="version"/> is no longer required.</summary>
    /// <returns>What was done and which symbols were made weak.</returns>
    /// <exception cref="InvalidDataException">Not a 64-bit little-endian ELF file with version sections, or a relocation uses a symbol of that version.</exception>
    public static (Outcome Outcome, IReadOnlyList<string> Symbols) Apply(byte[] elf, string version = MissingVersion)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        var span = elf.AsSpan();
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]), shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        var sections = new List<Section>(shnum);
        for (int i = 0; i < shnum; i++)
        {
            var h = span.Slice(checked((int)(shoff + (long)i * shentsize)), 64);
            sections.Add(new Section(
                Type: BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                Offset: checked((int)BinaryPrimitives.ReadUInt64LittleEndian(h[24..])),
                Size: checked((int)BinaryPrimitives.ReadUInt64LittleEndian(h[32..])),
                Link: (int)BinaryPrimitives.ReadUInt32LittleEndian(h[40..]),
                Info: (int)BinaryPrimitives.ReadUInt32LittleEndian(h[44..]),
                EntrySize: checked((int)BinaryPrimitives.ReadUInt64LittleEndian(h[56..]))));
        }
        var verneed = sections.FirstOrDefault(s => s.Type == ShtGnuVerneed) ?? throw new InvalidDataException("no .gnu.version_r section");
        var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym) ?? throw new InvalidDataException("no .gnu.version section");
        int dynsymIndex = sections.FindIndex(s => s.Type == ShtDynsym);
        if (dynsymIndex < 0)
            throw new InvalidDataException("no .dynsym section");
        var dynsym = sections[dynsymIndex];
        var verneedStrings = sections[verneed.Link];
        var symbolStrings = sections[dynsym.Link];

        // The requirement: its version index (vna_other) and where its flags are.
        int flagsAt = -1;
        ushort index = 0;
        int need = verneed.Offset;
        for (int n = 0; n < verneed.Info; n++)
        {
            int count = BinaryPrimitives.ReadUInt16LittleEndian(span[(need + 2)..]);
            int aux = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(need + 8)..]);
            for (int a = 0; a < count; a++)
            {
                if (Name(span, verneedStrings.Offset, BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 8)..])) == version)
                {
                    flagsAt = aux + 4;
                    index = BinaryPrimitives.ReadUInt16LittleEndian(span[(aux + 6)..]);
                }
                aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 12)..]);
            }
            need += (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(need + 12)..]);
        }
        if (flagsAt < 0)
            return (Outcome.NotRequired, []);
        if ((BinaryPrimitives.ReadUInt16LittleEndian(span[flagsAt..]) & VerFlagWeak) != 0)
            return (Outcome.AlreadyWeak, []);

        // The undefined symbols carrying that version (versym entries are 2 bytes, one per .dynsym entry; bit 15 = hidden).
        int symbols = dynsym.Size / dynsym.EntrySize;
        var carried = new List<int>();
        for (int i = 1; i < symbols; i++)
        {
            int entry = dynsym.Offset + i * dynsym.EntrySize;
            bool undefined = BinaryPrimitives.ReadUInt16LittleEndian(span[(entry + 6)..]) == 0;
            if (undefined && (BinaryPrimitives.ReadUInt16LittleEndian(span[(versym.Offset + 2 * i)..]) & 0x7fff) == index)
                carried.Add(i);
        }
        // Refuse if a relocation against .dynsym uses one of them (r_info's high 32 bits = symbol index).
        foreach (var rela in sections.Where(s => s.Type == ShtRela && s.Link == dynsymIndex))
            for (int r = rela.Offset; r + 24 <= rela.Offset + rela.Size; r += 24)
            {
                int symbol = (int)(BinaryPrimitives.ReadUInt64LittleEndian(span[(r + 8)..]) >> 32);
                if (carried.Contains(symbol))
                    throw new InvalidDataException($"a relocation uses {SymbolName(span, dynsym, symbolStrings, symbol)}@{version}: the library really needs {version}");
            }

        BinaryPrimitives.WriteUInt16LittleEndian(span[flagsAt..], (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(span[flagsAt..]) | VerFlagWeak));
        var names = new List<string>();
        foreach (int i in carried)
        {
            int entry = dynsym.Offset + i * dynsym.EntrySize;
            BinaryPrimitives.WriteUInt16LittleEndian(span[(versym.Offset + 2 * i)..], VersionGlobal);
            span[entry + 4] = (byte)(BindWeak << 4 | (span[entry + 4] & 0xf)); // st_info: binding in the high nibble, type kept
            names.Add(SymbolName(span, dynsym, symbolStrings, i));
        }
        return (Outcome.Patched, names);
    }

    /// <summary>Whether the library's copy in <paramref name="path"/> still requires <paramref name="version"/> (reads the file).</summary>
    public static bool Requires(string path, string version = MissingVersion)
    {
        var copy = File.ReadAllBytes(path);
        return Apply(copy, version).Outcome == Outcome.Patched;
    }

    private sealed record Section(uint Type, int Offset, int Size, int Link, int Info, int EntrySize);

    private static string SymbolName(ReadOnlySpan<byte> elf, Section dynsym, Section strings, int symbol) =>
        Name(elf, strings.Offset, BinaryPrimitives.ReadUInt32LittleEndian(elf[(dynsym.Offset + symbol * dynsym.EntrySize)..]));

    private static string Name(ReadOnlySpan<byte> elf, int table, uint offset)
    {
        var s = elf[(table + (int)offset)..];
        return Encoding.ASCII.GetString(s[..s.IndexOf((byte)0)]);
    }
}

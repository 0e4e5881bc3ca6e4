using System.Runtime.InteropServices;
using System.Text;

namespace Attention.Kernels.Tests.Checkpoints;

/// <summary>
/// Writes safetensors files for the tests, independently of the reader: the header JSON is spelled out by hand, so a
/// test can also write what a broken exporter would (a bad header, wrong offsets, holes).
/// </summary>
internal sealed class SafeTensorsBuilder
{
    public sealed record Entry(string Name, string DType, int[] Shape, byte[] Data, float[] Expected);

    private readonly List<Entry> _entries = [];

    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>Random values stored as <paramref name="dtype"/>; <see cref="Entry.Expected"/> holds what they widen to.</summary>
    public SafeTensorsBuilder Add(string name, string dtype, int[] shape, Random random)
    {
        int length = shape.Aggregate(1, (a, b) => a * b);
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = (float)(random.NextDouble() * 4 - 2) * MathF.Pow(10, random.Next(-3, 3));
        return Add(name, dtype, shape, values);
    }

    /// <summary><paramref name="values"/> rounded to <paramref name="dtype"/> (F32, F16, BF16).</summary>
    public SafeTensorsBuilder Add(string name, string dtype, int[] shape, float[] values)
    {
        byte[] data;
        float[] expected;
        switch (dtype)
        {
            case "F32":
                data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
                expected = values;
                break;
            case "F16":
                var halves = values.Select(v => (Half)v).ToArray();
                data = MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
                expected = halves.Select(h => (float)h).ToArray();
                break;
            case "BF16":
                var brains = values.Select(v => (BFloat16)v).ToArray();
                data = MemoryMarshal.AsBytes(brains.AsSpan()).ToArray();
                expected = brains.Select(b => (float)b).ToArray();
                break;
            default:
                throw new ArgumentException(dtype);
        }
        _entries.Add(new Entry(name, dtype, shape, data, expected));
        return this;
    }

    /// <summary>Raw bytes of any dtype (e.g. I64 position ids).</summary>
    public SafeTensorsBuilder AddRaw(string name, string dtype, int[] shape, byte[] data)
    {
        _entries.Add(new Entry(name, dtype, shape, data, []));
        return this;
    }

    /// <summary>
    /// The file's bytes: data laid out in <paramref name="order"/> (indices into the entries; default: reversed, so file
    /// order and data order differ), header padded with spaces to 8 bytes as the reference writer does.
    /// </summary>
    public byte[] Build(IReadOnlyDictionary<string, string>? metadata = null, int[]? order = null)
    {
        order ??= Enumerable.Range(0, _entries.Count).Reverse().ToArray();
        var offsets = new (long Begin, long End)[_entries.Count];
        long position = 0;
        foreach (int i in order)
        {
            offsets[i] = (position, position + _entries[i].Data.Length);
            position += _entries[i].Data.Length;
        }
        var json = new StringBuilder("{");
        if (metadata != null)
            json.Append("\"__metadata__\":{").AppendJoin(',', metadata.Select(m => $"\"{m.Key}\":\"{m.Value}\"")).Append("},");
        json.AppendJoin(',', _entries.Select((e, i) =>
            $"\"{e.Name}\":{{\"dtype\":\"{e.DType}\",\"shape\":[{string.Join(',', e.Shape)}],\"data_offsets\":[{offsets[i].Begin},{offsets[i].End}]}}"));
        json.Append('}');
        var data = order.SelectMany(i => _entries[i].Data).ToArray();
        return Assemble(json.ToString(), data);
    }

    /// <summary>A file with this exact header text and data.</summary>
    public static byte[] Assemble(string header, byte[] data)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        int padded = (headerBytes.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BitConverter.TryWriteBytes(file.AsSpan(0, 8), (ulong)padded);
        headerBytes.CopyTo(file, 8);
        file.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        data.CopyTo(file, 8 + padded);
        return file;
    }
}

/// <summary>A file in a fresh temporary folder, deleted with it.</summary>
internal sealed class TempFile : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ak-checkpoint-").FullName;

    public TempFile(byte[] contents, string name = "model.safetensors")
    {
        Path = System.IO.Path.Combine(_folder, name);
        File.WriteAllBytes(Path, contents);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

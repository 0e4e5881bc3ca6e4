using System.Runtime.InteropServices;
using Xunit;

namespace Attention.Kernels.Tests.Checkpoints;

/// <summary>
/// <see cref="SafeTensorsFile"/> on files written by the tests: every value of every dtype comes back (fp16/bf16 widened
/// exactly), and each way a header or its offsets can be wrong is refused naming the file and the tensor.
/// </summary>
public sealed class SafeTensorsFileTests
{
    private static int[] RandomShape(Random random) =>
        Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(1, 12)).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_dtype_reads_back_exactly(int seed)
    {
        var random = new Random(seed);
        var builder = new SafeTensorsBuilder();
        string[] dtypes = ["F32", "F16", "BF16"];
        for (int i = 0; i < 9; i++)
            builder.Add($"layer.{i}.weight", dtypes[i % 3], RandomShape(random), random);
        builder.Add("scalar", "F32", [], random).Add("empty", "BF16", [0, 5], random).Add("odd", "F16", [1, 7, 3], random);
        using var temp = new TempFile(builder.Build(new Dictionary<string, string> { ["format"] = "pt" }));
        using var file = SafeTensorsFile.Open(temp.Path);

        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(builder.Entries.Select(e => e.Name), file.Tensors.Select(t => t.Name));
        foreach (var entry in builder.Entries)
        {
            var tensor = file.Find(entry.Name)!;
            Assert.Equal(entry.Shape, tensor.Shape);
            Assert.Equal(entry.DType, tensor.StoredType);
            Assert.Equal(Enum.Parse<CheckpointDType>(entry.DType), tensor.DType);

            var values = new float[entry.Expected.Length];
            values.AsSpan().Fill(float.NaN);
            file.ReadSingle(entry.Name, values);
            Assert.Equal(entry.Expected, values);
            Assert.Equal(entry.Expected, file.ReadSingle(entry.Name));

            // The stored type in place.
            float[] stored = entry.DType switch
            {
                "F32" => file.GetSingleSpan(entry.Name).ToArray(),
                "F16" => file.GetHalfSpan(entry.Name).ToArray().Select(h => (float)h).ToArray(),
                _ => file.GetBFloat16Span(entry.Name).ToArray().Select(b => (float)b).ToArray(),
            };
            Assert.Equal(entry.Expected, stored);
            Assert.Equal(entry.Data, file.GetBytes(entry.Name).ToArray());
        }
        Assert.Contains(builder.Entries, entry => entry.Expected.Any(v => v != 0)); // not a test on zeros
    }

    [Fact]
    public void Unsupported_dtype_is_listed_but_not_converted()
    {
        var random = new Random(4);
        var ids = MemoryMarshal.AsBytes(new long[] { 0, 1, 2, 3, 4 }.AsSpan()).ToArray();
        var builder = new SafeTensorsBuilder().AddRaw("embeddings.position_ids", "I64", [1, 5], ids).Add("w", "F16", [2, 2], random);
        using var temp = new TempFile(builder.Build());
        using var file = SafeTensorsFile.Open(temp.Path);

        var positions = file.Find("embeddings.position_ids")!;
        Assert.Equal(CheckpointDType.Unsupported, positions.DType);
        Assert.Equal("I64", positions.StoredType);
        Assert.Equal(ids, file.GetBytes(positions.Name).ToArray());
        var error = Assert.Throws<NotSupportedException>(() => file.ReadSingle(positions.Name));
        Assert.Contains("embeddings.position_ids", error.Message);
        Assert.Contains("I64", error.Message);

        var wrongType = Assert.Throws<InvalidOperationException>(() => file.GetSingleSpan("w"));
        Assert.Contains("F16", wrongType.Message);
        Assert.Throws<KeyNotFoundException>(() => file.ReadSingle("missing"));
        var shortDestination = Assert.Throws<ArgumentException>(() => file.ReadSingle("w", new float[3]));
        Assert.Contains("[2, 2]", shortDestination.Message);
    }

    [Fact]
    public void Use_after_dispose_is_refused()
    {
        using var temp = new TempFile(new SafeTensorsBuilder().Add("w", "F32", [3], new Random(5)).Build());
        var file = SafeTensorsFile.Open(temp.Path);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadSingle("w"));
    }

    private static readonly byte[] TwelveBytes = new byte[12];

    public static TheoryData<string, byte[], string> CorruptFiles() => new()
    {
        { "too short", [1, 2, 3], "8-byte header length" },
        { "header past the end", [.. BitConverter.GetBytes(1000UL), .. "{}"u8], "1000-byte header" },
        { "header not JSON", SafeTensorsBuilder.Assemble("{\"w\": {\"dtype\": ", []), "not JSON" },
        { "header an array", SafeTensorsBuilder.Assemble("[]", []), "not an object" },
        { "tensor not an object", SafeTensorsBuilder.Assemble("{\"w\": 3}", []), "tensor 'w'" },
        { "no dtype", SafeTensorsBuilder.Assemble("{\"w\":{\"shape\":[3],\"data_offsets\":[0,12]}}", TwelveBytes), "no dtype" },
        { "unknown dtype", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F17\",\"shape\":[3],\"data_offsets\":[0,12]}}", TwelveBytes), "unknown dtype 'F17'" },
        { "negative axis", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[-3],\"data_offsets\":[0,12]}}", TwelveBytes), "shape [-3]" },
        { "fractional axis", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,12]}}", TwelveBytes), "shape [1.5]" },
        { "no offsets", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[3]}}", TwelveBytes), "no data_offsets" },
        { "offsets past the data", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]}}", TwelveBytes), "outside the 12 bytes" },
        { "offsets reversed", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", TwelveBytes), "[8, 4)" },
        { "size not the shape's", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,12]}}", TwelveBytes), "6 bytes" },
        { "overlap", SafeTensorsBuilder.Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", TwelveBytes), "overlapping" },
        { "hole", SafeTensorsBuilder.Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", TwelveBytes), "hole" },
        { "data not covered", SafeTensorsBuilder.Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", TwelveBytes), "cover only 8" },
        { "duplicate name", SafeTensorsBuilder.Assemble("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", TwelveBytes), "twice" },
        { "metadata not strings", SafeTensorsBuilder.Assemble("{\"__metadata__\":{\"n\":3}}", []), "must be strings" },
        { "unknown field", SafeTensorsBuilder.Assemble("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12],\"stride\":[1]}}", TwelveBytes), "unknown field 'stride'" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Corrupt_file_is_refused_with_the_reason(string what, byte[] contents, string reason)
    {
        using var temp = new TempFile(contents);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(temp.Path).Dispose());
        Assert.Contains(temp.Path, error.Message);
        Assert.True(error.Message.Contains(reason, StringComparison.Ordinal), $"{what}: '{error.Message}' does not say '{reason}'");
    }

    [Fact]
    public void Missing_file_names_its_path() =>
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(Path.Combine(Path.GetTempPath(), "no-such-dir-ak", "x.safetensors")));
}

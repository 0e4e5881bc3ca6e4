using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Attention.Kernels;

/// <summary>
/// A safetensors checkpoint (the format of Hugging Face's hub and PyTorch's <c>safetensors.torch.save_file</c>), memory-mapped
/// read-only: the JSON header is parsed and checked once at <see cref="Open"/>; tensor data is read straight from the mapping,
/// as float (<see cref="ReadSingle(string)"/>, converting fp16/bf16 exactly) or as spans of the stored type, valid until
/// <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// The format: an 8-byte little-endian header length N; N bytes of UTF-8 JSON mapping each tensor name to
/// <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets into the data that follows the header), plus an optional
/// <c>"__metadata__"</c> object of strings; then the data, which the tensors must cover exactly, without holes or overlaps.
/// Anything else is refused with an <see cref="InvalidDataException"/> naming the file and the tensor.
/// </remarks>
public sealed unsafe class SafeTensorsFile : ICheckpoint, IDisposable
{
    /// <summary>The reference implementation's limit on the header (100 MB): a larger length is a corrupt file.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private bool _disposed;
    private readonly long _dataStart;
    private readonly Dictionary<string, (CheckpointTensor Tensor, long Begin, long End)> _byName;

    private SafeTensorsFile(string path, MemoryMappedFile? file, MemoryMappedViewAccessor? view, byte* basePointer, long length)
    {
        Path = path;
        _file = file;
        _view = view;
        _base = basePointer;
        try
        {
            if (length < 8)
                throw Invalid($"is {length} bytes long; a safetensors file starts with an 8-byte header length");
            ulong headerLength = BitConverter.ToUInt64(new ReadOnlySpan<byte>(basePointer, 8));
            if (headerLength > MaxHeaderBytes || (long)headerLength > length - 8)
                throw Invalid($"declares a {headerLength}-byte header, but the file has {length - 8} bytes after the length (limit {MaxHeaderBytes})");
            _dataStart = 8 + (long)headerLength;
            (Tensors, _byName, Metadata) = ParseHeader(new ReadOnlySpan<byte>(basePointer + 8, (int)headerLength), length - _dataStart);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Maps <paramref name="path"/> and checks its header.</summary>
    /// <exception cref="InvalidDataException">The header is malformed, names an unknown dtype, or its offsets do not fit the data.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; this reader maps it in place.");
        long length = new FileInfo(path).Length; // throws FileNotFoundException naming the path
        if (length == 0) // a zero-length file cannot be mapped
            return new SafeTensorsFile(path, null, null, null, 0);
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new SafeTensorsFile(path, file, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>The file this was opened from.</summary>
    public string Path { get; }

    /// <summary>The header's <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    public IReadOnlyList<CheckpointTensor> Tensors { get; }

    /// <inheritdoc />
    public CheckpointTensor? Find(string name) => _byName.TryGetValue(name, out var entry) ? entry.Tensor : null;

    /// <inheritdoc />
    public void ReadSingle(string name, Span<float> destination)
    {
        var bytes = Data(name, out var tensor);
        CheckDestination(tensor, destination.Length);
        switch (tensor.DType)
        {
            case CheckpointDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case CheckpointDType.F16:
                StorageConvert.ToSingle(MemoryMarshal.Cast<byte, Half>(bytes), destination);
                break;
            case CheckpointDType.BF16:
                StorageConvert.ToSingle(MemoryMarshal.Cast<byte, BFloat16>(bytes), destination);
                break;
            default:
                throw Unsupported(tensor);
        }
    }

    /// <summary>Tensor <paramref name="name"/> converted to a new float array.</summary>
    public float[] ReadSingle(string name)
    {
        var tensor = Find(name) ?? throw NotFound(name);
        var result = new float[checked((int)tensor.Length)];
        ReadSingle(name, result);
        return result;
    }

    /// <summary>An F32 tensor's data in place (valid until <see cref="Dispose"/>).</summary>
    public ReadOnlySpan<float> GetSingleSpan(string name) => Stored<float>(name, CheckpointDType.F32);

    /// <summary>An F16 tensor's data in place (valid until <see cref="Dispose"/>).</summary>
    public ReadOnlySpan<Half> GetHalfSpan(string name) => Stored<Half>(name, CheckpointDType.F16);

    /// <summary>A BF16 tensor's data in place (valid until <see cref="Dispose"/>).</summary>
    public ReadOnlySpan<BFloat16> GetBFloat16Span(string name) => Stored<BFloat16>(name, CheckpointDType.BF16);

    /// <summary>Any tensor's raw little-endian bytes in place (valid until <see cref="Dispose"/>), whatever its type.</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => Data(name, out _);

    private ReadOnlySpan<T> Stored<T>(string name, CheckpointDType expected) where T : unmanaged
    {
        var bytes = Data(name, out var tensor);
        if (tensor.DType != expected)
            throw new InvalidOperationException(
                $"Tensor '{name}' of {Path} is {tensor.StoredType}, not {expected}: use ReadSingle to convert, or the span getter of its type.");
        return MemoryMarshal.Cast<byte, T>(bytes);
    }

    private ReadOnlySpan<byte> Data(string name, out CheckpointTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(name, out var entry))
            throw NotFound(name);
        tensor = entry.Tensor;
        long count = entry.End - entry.Begin;
        if (count > int.MaxValue)
            throw new NotSupportedException($"Tensor '{name}' of {Path} is {count} bytes; spans are limited to 2 GiB.");
        return new ReadOnlySpan<byte>(_base + _dataStart + entry.Begin, (int)count);
    }

    private void CheckDestination(CheckpointTensor tensor, int length)
    {
        if (length != tensor.Length)
            throw new ArgumentException(
                $"Tensor '{tensor.Name}' of {Path} has shape {TensorShape.Format(tensor.Shape)} ({tensor.Length} values), but the destination holds {length}.",
                "destination");
    }

    private KeyNotFoundException NotFound(string name) =>
        new($"{Path} has no tensor '{name}' ({Tensors.Count} tensors{(Tensors.Count > 0 ? ", e.g. " + string.Join(", ", Tensors.Take(5).Select(t => t.Name)) : "")}).");

    private NotSupportedException Unsupported(CheckpointTensor tensor) =>
        new($"Tensor '{tensor.Name}' of {Path} is {tensor.StoredType}; only F32, F16 and BF16 convert to float.");

    private InvalidDataException Invalid(string problem) => new($"{Path} is not a valid safetensors file: it {problem}.");

    /// <summary>The dtypes of the safetensors format and their element sizes; F32, F16 and BF16 convert to float.</summary>
    private static (CheckpointDType DType, int Bytes)? DTypeOf(string name) => name switch
    {
        "F32" => (CheckpointDType.F32, 4),
        "F16" => (CheckpointDType.F16, 2),
        "BF16" => (CheckpointDType.BF16, 2),
        "F64" or "I64" or "U64" => (CheckpointDType.Unsupported, 8),
        "I32" or "U32" => (CheckpointDType.Unsupported, 4),
        "I16" or "U16" => (CheckpointDType.Unsupported, 2),
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => (CheckpointDType.Unsupported, 1),
        _ => null,
    };

    private (CheckpointTensor[], Dictionary<string, (CheckpointTensor, long, long)>, IReadOnlyDictionary<string, string>) ParseHeader(
        ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Path} is not a valid safetensors file: its header is not JSON ({e.Message}).", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid($"has a header that is a JSON {document.RootElement.ValueKind}, not an object");

            var tensors = new List<CheckpointTensor>();
            var byName = new Dictionary<string, (CheckpointTensor, long, long)>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, metadata);
                    continue;
                }
                if (byName.ContainsKey(property.Name))
                    throw Invalid($"names tensor '{property.Name}' twice");
                var (tensor, begin, end) = ParseTensor(property.Name, property.Value, dataLength);
                tensors.Add(tensor);
                byName.Add(tensor.Name, (tensor, begin, end));
            }

            // The format's rule: the tensors tile the data exactly (sorted by offset, each starts where the previous ended).
            long expected = 0;
            foreach (var (tensor, begin, end) in byName.Values.OrderBy(e => e.Item2).ThenBy(e => e.Item3))
            {
                if (begin != expected)
                {
                    throw Invalid(begin < expected
                        ? $"has tensor '{tensor.Name}' at bytes [{begin}, {end}) overlapping the previous tensor (which ends at {expected})"
                        : $"has a hole in its data: bytes [{expected}, {begin}) belong to no tensor (the next is '{tensor.Name}')");
                }
                expected = end;
            }
            if (expected != dataLength)
                throw Invalid($"has {dataLength} bytes of data, but its tensors cover only {expected}");
            return ([.. tensors], byName, metadata);
        }
    }

    private void ParseMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid($"has a {MetadataKey} that is a JSON {value.ValueKind}, not an object of strings");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Invalid($"has {MetadataKey}.{entry.Name} = {entry.Value.ValueKind}; metadata values must be strings");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private (CheckpointTensor, long Begin, long End) ParseTensor(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid($"describes tensor '{name}' with a JSON {value.ValueKind}, not an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid($"gives tensor '{name}' no dtype string");
        string storedType = dtypeElement.GetString()!;
        var dtype = DTypeOf(storedType)
            ?? throw Invalid($"gives tensor '{name}' the unknown dtype '{storedType}' (known: F32, F16, BF16, F64, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2)");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Invalid($"gives tensor '{name}' no shape array");
        var shape = new int[shapeElement.GetArrayLength()];
        long elements = 1;
        int axis = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int size) || size < 0)
                throw Invalid($"gives tensor '{name}' the shape {shapeElement.GetRawText()}: each axis must be an integer in [0, {int.MaxValue}]");
            shape[axis++] = size;
            elements = elements > long.MaxValue / Math.Max(size, 1) / dtype.Bytes
                ? throw Invalid($"gives tensor '{name}' the shape {shapeElement.GetRawText()}, too large to address")
                : elements * size;
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
            throw Invalid($"gives tensor '{name}' no data_offsets [begin, end] of integers");
        if (begin < 0 || end < begin || end > dataLength)
            throw Invalid($"gives tensor '{name}' the data_offsets [{begin}, {end}), outside the {dataLength} bytes of data");
        long bytes = elements * dtype.Bytes;
        if (end - begin != bytes)
            throw Invalid($"gives tensor '{name}' ({storedType}{TensorShape.Format(shape)}, {bytes} bytes) the data_offsets [{begin}, {end}) of {end - begin} bytes");

        foreach (var property in value.EnumerateObject())
        {
            if (property.Name is not ("dtype" or "shape" or "data_offsets"))
                throw Invalid($"gives tensor '{name}' the unknown field '{property.Name}'");
        }
        return (new CheckpointTensor(name, dtype.DType, storedType, shape), begin, end);
    }

    /// <summary>Unmaps the file: spans obtained from it must not be used afterwards.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (_view != null && _base != null)
        {
            _base = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _view?.Dispose();
        _file?.Dispose();
    }
}

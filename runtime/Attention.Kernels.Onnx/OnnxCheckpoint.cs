using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Attention.Kernels.Onnx;

/// <summary>One node of an ONNX graph: what it computes and which values it reads and writes, by name.</summary>
/// <param name="Name">The node's name (may be empty in ONNX).</param>
/// <param name="OpType">The operator (<c>MatMul</c>, <c>Add</c>, <c>Gemm</c>…).</param>
/// <param name="Inputs">Names of the values it reads, in operator order (an initializer's name where it reads one).</param>
/// <param name="Outputs">Names of the values it writes.</param>
/// <param name="IntAttributes">Its integer attributes (e.g. Gemm's <c>transB</c>).</param>
public sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, long> IntAttributes);

/// <summary>
/// The initializers of an ONNX model as an <see cref="ICheckpoint"/> (FLOAT, FLOAT16 and BFLOAT16, from <c>float_data</c>,
/// <c>int32_data</c> or <c>raw_data</c>), with the graph's nodes, so that weights an exporter renamed can be found by
/// tracing the graph (<see cref="FindLinears"/>). The whole model is read into memory.
/// </summary>
public sealed class OnnxCheckpoint : ICheckpoint
{
    private readonly Dictionary<string, (CheckpointTensor Tensor, TensorProto Proto)> _byName = new(StringComparer.Ordinal);

    private OnnxCheckpoint(ModelProto model, string source)
    {
        Source = source;
        var graph = model.Graph ?? throw new InvalidDataException($"{source} is not an ONNX model with a graph.");
        var tensors = new List<CheckpointTensor>(graph.Initializer.Count);
        foreach (var proto in graph.Initializer)
        {
            var tensor = Describe(proto);
            if (!_byName.TryAdd(tensor.Name, (tensor, proto)))
                throw new InvalidDataException($"{source} has two initializers named '{tensor.Name}'.");
            tensors.Add(tensor);
        }
        Tensors = tensors;
        Nodes = [.. graph.Node.Select(n => new OnnxNode(n.Name, n.OpType, [.. n.Input], [.. n.Output],
            n.Attribute.Where(a => a.Type == AttributeProto.Types.AttributeType.Int).ToDictionary(a => a.Name, a => a.I)))];
        ProducerName = model.ProducerName;
    }

    /// <summary>Reads the model file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">It is not a readable ONNX model.</exception>
    public static OnnxCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Reads a model from <paramref name="stream"/>; <paramref name="source"/> names it in messages.</summary>
    public static OnnxCheckpoint Load(Stream stream, string source = "the ONNX model")
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return new OnnxCheckpoint(ModelProto.Parser.ParseFrom(stream), source);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not a valid ONNX model: {e.Message}", e);
        }
    }

    /// <summary>Reads a model held in memory.</summary>
    public static OnnxCheckpoint Load(byte[] model, string source = "the ONNX model")
    {
        ArgumentNullException.ThrowIfNull(model);
        return Load(new MemoryStream(model, writable: false), source);
    }

    /// <summary>What the messages call the model (its path, or the name given).</summary>
    public string Source { get; }

    /// <summary>The tool that wrote the model (ModelProto.producer_name).</summary>
    public string ProducerName { get; }

    /// <summary>The initializers, in the file's order.</summary>
    public IReadOnlyList<CheckpointTensor> Tensors { get; }

    /// <summary>The graph's nodes, in the file's (topological) order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <inheritdoc />
    public CheckpointTensor? Find(string name) => _byName.TryGetValue(name, out var entry) ? entry.Tensor : null;

    /// <inheritdoc />
    public void ReadSingle(string name, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_byName.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"{Source} has no initializer '{name}' ({Tensors.Count} initializers).");
        var (tensor, proto) = entry;
        if (destination.Length != tensor.Length)
            throw new ArgumentException(
                $"Initializer '{name}' of {Source} has shape {TensorShape.Format(tensor.Shape)} ({tensor.Length} values), but the destination holds {destination.Length}.",
                nameof(destination));
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            throw new NotSupportedException($"Initializer '{name}' of {Source} is stored in an external data file, which this reader does not follow.");
        if (tensor.DType == CheckpointDType.Unsupported)
            throw new NotSupportedException($"Initializer '{name}' of {Source} is {tensor.StoredType}; only FLOAT, FLOAT16 and BFLOAT16 convert to float.");

        int size = tensor.DType == CheckpointDType.F32 ? 4 : 2;
        if (!proto.RawData.IsEmpty)
        {
            var raw = proto.RawData.Span;
            if (raw.Length != tensor.Length * size)
                throw Corrupt(tensor, $"{raw.Length} bytes of raw_data");
            switch (tensor.DType)
            {
                case CheckpointDType.F32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(destination); break;
                case CheckpointDType.F16: StorageConvert.ToSingle(MemoryMarshal.Cast<byte, Half>(raw), destination); break;
                default: StorageConvert.ToSingle(MemoryMarshal.Cast<byte, BFloat16>(raw), destination); break;
            }
        }
        else if (tensor.DType == CheckpointDType.F32)
        {
            if (proto.FloatData.Count != tensor.Length)
                throw Corrupt(tensor, $"{proto.FloatData.Count} float_data values");
            for (int i = 0; i < destination.Length; i++)
                destination[i] = proto.FloatData[i];
        }
        else
        {
            // ONNX stores 16-bit types one per int32_data entry (the low 16 bits) when not in raw_data.
            if (proto.Int32Data.Count != tensor.Length)
                throw Corrupt(tensor, $"{proto.Int32Data.Count} int32_data values");
            for (int i = 0; i < destination.Length; i++)
            {
                ushort bits = (ushort)proto.Int32Data[i];
                destination[i] = tensor.DType == CheckpointDType.F16 ? (float)BitConverter.UInt16BitsToHalf(bits) : (float)BFloat16.FromBits(bits);
            }
        }
    }

    /// <summary>Initializer <paramref name="name"/> converted to a new float array.</summary>
    public float[] ReadSingle(string name)
    {
        var tensor = Find(name) ?? throw new KeyNotFoundException($"{Source} has no initializer '{name}'.");
        var values = new float[checked((int)tensor.Length)];
        ReadSingle(name, values);
        return values;
    }

    /// <summary>
    /// The linear layers of the graph, found by tracing: each <c>MatMul(x, W)</c> or <c>Gemm(x, W[, b])</c> whose weight
    /// <c>W</c> is an initializer and whose result goes into an <c>Add</c> with a bias initializer (or, for Gemm, takes it as
    /// <c>C</c>). Exporters rename or fold weight matrices (the MiniLM export calls them by numbers) but keep the bias's
    /// name, so <see cref="OnnxLinear.WeightName"/> is taken from the bias, never from the matrix's own name or position.
    /// </summary>
    /// <exception cref="InvalidDataException">Two linear layers claim the same bias.</exception>
    public IReadOnlyList<OnnxLinear> FindLinears()
    {
        var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (!consumers.TryGetValue(input, out var list))
                    consumers[input] = list = [];
                list.Add(node);
            }
        }

        var found = new List<OnnxLinear>();
        var byBias = new Dictionary<string, OnnxLinear>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            if (node.OpType is not ("MatMul" or "Gemm") || node.Inputs.Count < 2 || node.Outputs.Count != 1)
                continue;
            var weight = Find(node.Inputs[1]);
            if (weight is null || weight.Shape.Length != 2)
                continue;
            bool gemm = node.OpType == "Gemm";
            if (gemm && (node.IntAttributes.GetValueOrDefault("transA") != 0 || Find(node.Inputs[0]) != null))
                continue; // not x·W with x flowing in
            // MatMul reads W as [in, out]; Gemm as [in, out] unless transB = 1, which is PyTorch's [out, in].
            bool transposed = !(gemm && node.IntAttributes.GetValueOrDefault("transB") == 1);
            int outFeatures = transposed ? weight.Shape[1] : weight.Shape[0];

            string? bias = gemm && node.Inputs.Count >= 3 && node.Inputs[2].Length > 0 ? node.Inputs[2] : null;
            if (bias is null)
            {
                var adds = consumers.GetValueOrDefault(node.Outputs[0], [])
                    .Where(c => c.OpType == "Add" && c.Inputs.Count == 2)
                    .Select(c => c.Inputs[0] == node.Outputs[0] ? c.Inputs[1] : c.Inputs[0])
                    .Where(other => Find(other) is { Shape: [var length] } && length == outFeatures)
                    .ToList();
                if (adds.Count != 1)
                    continue;
                bias = adds[0];
            }
            var biasTensor = Find(bias);
            if (biasTensor is null || biasTensor.Shape is not [var biasLength] || biasLength != outFeatures)
                continue;

            var linear = new OnnxLinear(node.Name, node.OpType, weight.Name, bias, transposed, outFeatures, transposed ? weight.Shape[0] : weight.Shape[1]);
            if (byBias.TryGetValue(bias, out var other))
                throw new InvalidDataException(
                    $"{Source}: bias '{bias}' is added to the outputs of two linear layers ({other.Node} with '{other.Weight}', {node.Name} with '{weight.Name}'); the weight's name cannot be taken from it.");
            byBias.Add(bias, linear);
            found.Add(linear);
        }
        return found;
    }

    private CheckpointTensor Describe(TensorProto proto)
    {
        var type = (TensorProto.Types.DataType)proto.DataType;
        var dtype = type switch
        {
            TensorProto.Types.DataType.Float => CheckpointDType.F32,
            TensorProto.Types.DataType.Float16 => CheckpointDType.F16,
            TensorProto.Types.DataType.Bfloat16 => CheckpointDType.BF16,
            _ => CheckpointDType.Unsupported,
        };
        var shape = new int[proto.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (proto.Dims[i] is < 0 or > int.MaxValue)
                throw new InvalidDataException($"Initializer '{proto.Name}' of {Source} has the axis {proto.Dims[i]} in its dims [{string.Join(", ", proto.Dims)}].");
            shape[i] = (int)proto.Dims[i];
        }
        string storedType = Enum.IsDefined(type) ? type.ToString().ToUpperInvariant() : $"data_type {proto.DataType}";
        return new CheckpointTensor(proto.Name, dtype, storedType, shape);
    }

    private InvalidDataException Corrupt(CheckpointTensor tensor, string found) =>
        new($"Initializer '{tensor.Name}' of {Source} ({tensor.StoredType}{TensorShape.Format(tensor.Shape)}, {tensor.Length} values) holds {found}.");
}

/// <summary>A linear layer traced in an ONNX graph (<see cref="OnnxCheckpoint.FindLinears"/>).</summary>
/// <param name="Node">The MatMul or Gemm node's name.</param>
/// <param name="OpType"><c>MatMul</c> or <c>Gemm</c>.</param>
/// <param name="Weight">The weight initializer's name in the file (whatever the exporter called it).</param>
/// <param name="Bias">The bias initializer's name.</param>
/// <param name="Transposed">
/// True when <see cref="Weight"/> is stored [in, out] (ONNX MatMul's x·W), the transpose of PyTorch's nn.Linear [out, in].
/// </param>
/// <param name="OutFeatures">Output features (the bias's length).</param>
/// <param name="InFeatures">Input features.</param>
public sealed record OnnxLinear(string Node, string OpType, string Weight, string Bias, bool Transposed, int OutFeatures, int InFeatures)
{
    /// <summary>
    /// The weight's PyTorch name, from the bias's (<c>….query.bias</c> → <c>….query.weight</c>), or null when the bias's
    /// name does not end in <c>bias</c>.
    /// </summary>
    public string? WeightName => Bias.EndsWith("bias", StringComparison.Ordinal) ? Bias[..^4] + "weight" : null;
}

using System.Runtime.InteropServices;
using Attention.Kernels.Onnx;
using Google.Protobuf;
using Onnx;
using Xunit;

namespace Attention.Kernels.Tests.Checkpoints;

/// <summary>
/// <see cref="OnnxCheckpoint"/> on small ONNX models built here with the ONNX protobuf types: initializers in every storage
/// (float_data, raw_data, int32_data; FLOAT, FLOAT16, BFLOAT16) come back exactly, and linear layers are named by tracing
/// MatMul/Gemm to their bias, whatever the weight initializer is called.
/// </summary>
public sealed class OnnxCheckpointTests
{
    private static TensorProto Initializer(string name, TensorProto.Types.DataType type, int[] shape, float[] values, bool raw)
    {
        var proto = new TensorProto { Name = name, DataType = (int)type };
        proto.Dims.AddRange(shape.Select(d => (long)d));
        switch (type)
        {
            case TensorProto.Types.DataType.Float when raw:
                proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
                break;
            case TensorProto.Types.DataType.Float:
                proto.FloatData.AddRange(values);
                break;
            default:
                var bits = values.Select(v => type == TensorProto.Types.DataType.Float16 ? BitConverter.HalfToUInt16Bits((Half)v) : ((BFloat16)v).RawValue).ToArray();
                if (raw)
                    proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(bits.AsSpan()));
                else
                    proto.Int32Data.AddRange(bits.Select(b => (int)b));
                break;
        }
        return proto;
    }

    private static float[] Random(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    private static NodeProto Node(string op, string name, string[] inputs, string output, params (string Name, long Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (attribute, value) in attributes)
            node.Attribute.Add(new AttributeProto { Name = attribute, Type = AttributeProto.Types.AttributeType.Int, I = value });
        return node;
    }

    [Theory]
    [InlineData(TensorProto.Types.DataType.Float, false)]
    [InlineData(TensorProto.Types.DataType.Float, true)]
    [InlineData(TensorProto.Types.DataType.Float16, false)]
    [InlineData(TensorProto.Types.DataType.Float16, true)]
    [InlineData(TensorProto.Types.DataType.Bfloat16, false)]
    [InlineData(TensorProto.Types.DataType.Bfloat16, true)]
    public void Initializers_read_back_exactly(TensorProto.Types.DataType type, bool raw)
    {
        var random = new Random((int)type * 2 + (raw ? 1 : 0));
        int[] shape = [random.Next(1, 9), random.Next(1, 9)];
        var values = Random(random, shape[0] * shape[1]);
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(Initializer("w", type, shape, values, raw));
        graph.Initializer.Add(Initializer("empty", type, [0, 3], [], raw));
        var positions = new TensorProto { Name = "position_ids", DataType = (int)TensorProto.Types.DataType.Int64 };
        positions.Dims.Add(3);
        positions.Int64Data.AddRange([0, 1, 2]);
        graph.Initializer.Add(positions);
        var checkpoint = OnnxCheckpoint.Load(new ModelProto { Graph = graph }.ToByteArray(), "test.onnx");

        var expected = type switch
        {
            TensorProto.Types.DataType.Float => values,
            TensorProto.Types.DataType.Float16 => values.Select(v => (float)(Half)v).ToArray(),
            _ => values.Select(v => (float)(BFloat16)v).ToArray(),
        };
        var tensor = checkpoint.Find("w")!;
        Assert.Equal(shape, tensor.Shape);
        var read = new float[expected.Length];
        read.AsSpan().Fill(float.NaN);
        checkpoint.ReadSingle("w", read);
        Assert.Equal(expected, read);
        Assert.Empty(checkpoint.ReadSingle("empty"));

        Assert.Equal(CheckpointDType.Unsupported, checkpoint.Find("position_ids")!.DType);
        Assert.Equal("INT64", checkpoint.Find("position_ids")!.StoredType);
        Assert.Contains("INT64", Assert.Throws<NotSupportedException>(() => checkpoint.ReadSingle("position_ids")).Message);
        Assert.Throws<KeyNotFoundException>(() => checkpoint.ReadSingle("nope"));
        Assert.Throws<ArgumentException>(() => checkpoint.ReadSingle("w", new float[expected.Length + 1]));
    }

    [Fact]
    public void Data_that_does_not_match_the_dims_is_refused()
    {
        var graph = new GraphProto();
        var proto = Initializer("w", TensorProto.Types.DataType.Float, [2, 3], Random(new Random(1), 5), raw: true);
        graph.Initializer.Add(proto);
        var checkpoint = OnnxCheckpoint.Load(new ModelProto { Graph = graph }.ToByteArray());
        var error = Assert.Throws<InvalidDataException>(() => checkpoint.ReadSingle("w"));
        Assert.Contains("'w'", error.Message);
        Assert.Contains("20 bytes of raw_data", error.Message);
    }

    [Fact]
    public void Corrupt_bytes_are_refused() =>
        Assert.Throws<InvalidDataException>(() => OnnxCheckpoint.Load([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2], "bad.onnx"));

    [Fact]
    public void Linear_layers_are_named_by_their_bias_not_by_the_matrix()
    {
        var random = new Random(7);
        var graph = new GraphProto();
        // Like the MiniLM export: the matrix renamed to a number, stored [in, out]; the bias keeps its PyTorch name.
        graph.Initializer.Add(Initializer("1234", TensorProto.Types.DataType.Float, [5, 3], Random(random, 15), raw: true));
        graph.Initializer.Add(Initializer("layer.0.query.bias", TensorProto.Types.DataType.Float, [3], Random(random, 3), raw: true));
        graph.Node.Add(Node("MatMul", "MatMul_0", ["x", "1234"], "q0"));
        graph.Node.Add(Node("Add", "Add_0", ["q0", "layer.0.query.bias"], "q"));
        // The bias first in the Add, and the weight named after something else entirely.
        graph.Initializer.Add(Initializer("onnx::MatMul_99", TensorProto.Types.DataType.Float, [3, 4], Random(random, 12), raw: true));
        graph.Initializer.Add(Initializer("layer.0.output.dense.bias", TensorProto.Types.DataType.Float, [4], Random(random, 4), raw: true));
        graph.Node.Add(Node("MatMul", "MatMul_1", ["q", "onnx::MatMul_99"], "o0"));
        graph.Node.Add(Node("Add", "Add_1", ["layer.0.output.dense.bias", "o0"], "o"));
        // Gemm with transB = 1: PyTorch's [out, in], bias as C.
        graph.Initializer.Add(Initializer("pooler.dense.weight", TensorProto.Types.DataType.Float, [2, 4], Random(random, 8), raw: true));
        graph.Initializer.Add(Initializer("pooler.dense.bias", TensorProto.Types.DataType.Float, [2], Random(random, 2), raw: true));
        graph.Node.Add(Node("Gemm", "Gemm_0", ["o", "pooler.dense.weight", "pooler.dense.bias"], "p", ("transB", 1)));
        // A MatMul with no bias (attention's QKᵀ-like product of two activations) and one with a weight but no bias: neither is a linear layer.
        graph.Node.Add(Node("MatMul", "MatMul_2", ["q", "o"], "s"));
        graph.Initializer.Add(Initializer("77", TensorProto.Types.DataType.Float, [4, 4], Random(random, 16), raw: true));
        graph.Node.Add(Node("MatMul", "MatMul_3", ["o", "77"], "t"));

        var linears = OnnxCheckpoint.Load(new ModelProto { Graph = graph }.ToByteArray()).FindLinears();
        Assert.Equal(3, linears.Count);
        Assert.Equal(new OnnxLinear("MatMul_0", "MatMul", "1234", "layer.0.query.bias", true, 3, 5), linears[0]);
        Assert.Equal("layer.0.query.weight", linears[0].WeightName);
        Assert.Equal("onnx::MatMul_99", linears[1].Weight);
        Assert.Equal("layer.0.output.dense.weight", linears[1].WeightName);
        Assert.Equal((4, 3), (linears[1].OutFeatures, linears[1].InFeatures));
        Assert.Equal(new OnnxLinear("Gemm_0", "Gemm", "pooler.dense.weight", "pooler.dense.bias", false, 2, 4), linears[2]);
    }

    [Fact]
    public void A_bias_shared_by_two_layers_is_an_error()
    {
        var random = new Random(8);
        var graph = new GraphProto();
        graph.Initializer.Add(Initializer("1", TensorProto.Types.DataType.Float, [3, 3], Random(random, 9), raw: true));
        graph.Initializer.Add(Initializer("2", TensorProto.Types.DataType.Float, [3, 3], Random(random, 9), raw: true));
        graph.Initializer.Add(Initializer("dense.bias", TensorProto.Types.DataType.Float, [3], Random(random, 3), raw: true));
        graph.Node.Add(Node("MatMul", "A", ["x", "1"], "a"));
        graph.Node.Add(Node("Add", "AddA", ["a", "dense.bias"], "a1"));
        graph.Node.Add(Node("MatMul", "B", ["a1", "2"], "b"));
        graph.Node.Add(Node("Add", "AddB", ["b", "dense.bias"], "b1"));
        var error = Assert.Throws<InvalidDataException>(() => OnnxCheckpoint.Load(new ModelProto { Graph = graph }.ToByteArray()).FindLinears());
        Assert.Contains("'dense.bias'", error.Message);
    }
}

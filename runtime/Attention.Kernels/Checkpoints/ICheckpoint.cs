namespace Attention.Kernels;

/// <summary>How a checkpoint stores a tensor's elements.</summary>
public enum CheckpointDType
{
    /// <summary>A type this library does not convert to float (integers, fp64, fp8, bool…): listed, never loaded as a weight.</summary>
    Unsupported = 0,

    /// <summary>IEEE fp32.</summary>
    F32,

    /// <summary>IEEE fp16 (<see cref="Half"/>), widened exactly.</summary>
    F16,

    /// <summary>bfloat16 (<see cref="BFloat16"/>), widened exactly.</summary>
    BF16,
}

/// <summary>One tensor of a checkpoint as its file describes it.</summary>
/// <param name="Name">The checkpoint's name for it (e.g. <c>encoder.layer.0.attention.self.query.weight</c>).</param>
/// <param name="DType">Its element type, or <see cref="CheckpointDType.Unsupported"/>.</param>
/// <param name="StoredType">The file's own spelling of the type (<c>F32</c>, <c>I64</c>, ONNX's <c>FLOAT</c>…), for messages.</param>
/// <param name="Shape">Its shape, outermost axis first (PyTorch's order).</param>
public sealed record CheckpointTensor(string Name, CheckpointDType DType, string StoredType, int[] Shape)
{
    /// <summary>Number of elements.</summary>
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {StoredType}{TensorShape.Format(Shape)}";
}

/// <summary>
/// A set of named tensors a model's weights can be loaded from (<see cref="CheckpointLoading.LoadCheckpoint"/>): a safetensors
/// file (<see cref="SafeTensorsFile"/>), an ONNX model's initializers (Attention.Kernels.Onnx), or any other source.
/// </summary>
public interface ICheckpoint
{
    /// <summary>Every tensor of the checkpoint, in the file's order.</summary>
    IReadOnlyList<CheckpointTensor> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    CheckpointTensor? Find(string name);

    /// <summary>
    /// Converts tensor <paramref name="name"/> to float into <paramref name="destination"/> (row-major, its own shape), whose
    /// length must be the tensor's element count.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    /// <exception cref="NotSupportedException">Its type is <see cref="CheckpointDType.Unsupported"/>.</exception>
    void ReadSingle(string name, Span<float> destination);
}

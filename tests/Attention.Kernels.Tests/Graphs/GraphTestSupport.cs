using Attention.Kernels.Reference;
using Xunit;

namespace Attention.Kernels.Tests.Graphs;

/// <summary>What the graph numerics tests share: the device a case names, and weights and references as float arrays.</summary>
internal static class GraphTestSupport
{
    /// <summary>"cpu" is the CPU backend; anything else is ILGPU's CPU accelerator.</summary>
    public static Device GetDevice(string name) => name == "cpu" ? Device.Cpu : Ilgpu.IlgpuTestDevice.Instance;

    public static float[] Floats(double[] values) => values.Select(v => (float)v).ToArray();

    /// <summary>A node's weight tensor as a float array, for the fp64 reference.</summary>
    public static float[] W(ModelWeights weights, string node, string name) => weights[node, name].ToArray();

    /// <summary>Poisons <paramref name="output"/> with NaN, runs, checks every element was written, and returns the output and its relative error.</summary>
    public static (float[] Output, double Error) RunAndCompare(Tensor<float> output, double[] expected, Action run)
    {
        output.Fill(float.NaN);
        run();
        float[] actual = output.ToArray();
        Assert.DoesNotContain(actual, float.IsNaN);
        return (actual, Accuracy.RelativeError(actual, expected));
    }

    /// <summary>Per-row key lengths: 0, full, or anything between.</summary>
    public static int[] RandomLengths(Random random, int batch, int length) =>
        Enumerable.Range(0, batch).Select(_ => random.Next(4) switch { 0 => 0, 1 => length, _ => random.Next(0, length + 1) }).ToArray();
}

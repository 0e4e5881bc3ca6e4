namespace Attention.Kernels.Tests.Graphs;

/// <summary>What the graph numerics tests share: the device a case names, and weights and references as float arrays.</summary>
internal static class GraphTestSupport
{
    /// <summary>"cpu" is the CPU backend; anything else is ILGPU's CPU accelerator.</summary>
    public static Device GetDevice(string name) => name == "cpu" ? Device.Cpu : Ilgpu.IlgpuTestDevice.Instance;

    public static float[] Floats(double[] values) => values.Select(v => (float)v).ToArray();

    /// <summary>A node's weight tensor as a float array, for the fp64 reference.</summary>
    public static float[] W(ModelWeights weights, string node, string name) => weights[node, name].ToArray();
}

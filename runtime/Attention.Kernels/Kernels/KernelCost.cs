namespace Attention.Kernels;

/// <summary>What one kernel launch costs, from the generated cost model.</summary>
/// <param name="Flops">Floating-point operations actually performed (masked-out work excluded; a multiply-add counts 2).</param>
/// <param name="BytesMoved">Bytes every launch must read and write at least once (inputs read, outputs written).</param>
/// <param name="ScratchBytes">Temporary memory the launch needs beyond its inputs and outputs.</param>
public readonly record struct KernelCost(double Flops, double BytesMoved, long ScratchBytes)
{
    /// <summary>Arithmetic intensity, FLOPs per byte moved.</summary>
    public double Intensity => BytesMoved == 0 ? 0 : Flops / BytesMoved;

    /// <summary>GFLOP/s achieved if the launch took <paramref name="seconds"/>.</summary>
    public double GflopsPerSecond(double seconds) => Flops / seconds / 1e9;

    /// <summary>GB/s of compulsory traffic if the launch took <paramref name="seconds"/>.</summary>
    public double GigabytesPerSecond(double seconds) => BytesMoved / seconds / 1e9;

    /// <summary>Sum of two costs.</summary>
    public static KernelCost operator +(KernelCost a, KernelCost b) =>
        new(a.Flops + b.Flops, a.BytesMoved + b.BytesMoved, Math.Max(a.ScratchBytes, b.ScratchBytes));
}

using ILGPU;

namespace Attention.Kernels.Ilgpu.Ops;

/// <summary>
/// Linear: y = activation(x·Wᵀ + bias) + residual, a GEMM tiled through shared memory with the bias, activation and
/// residual fused into its epilogue (y is written once). x [rows, in], W [out, in] (PyTorch layout), bias [out],
/// residual [rows, out] (it may be y itself: each output is read, then written, by the same thread).
/// </summary>
/// <remarks>
/// A <see cref="Threads"/>×<see cref="Threads"/> group computes a <see cref="Tile"/>×<see cref="Tile"/> block of y
/// (Grid.IdxX = block of rows, Grid.IdxY = block of columns). Thread (Group.IdxX, Group.IdxY) = (column lane, row lane)
/// owns the outputs (row lane + Threads·i, column lane + Threads·j), i, j &lt; <see cref="Block"/>, so neighbouring
/// threads read and write neighbouring columns. The reduction advances <see cref="TileK"/> columns of x and W at a time:
/// the group stages them k-major in shared memory (zeros past the edges), then every thread updates its
/// Block×Block accumulators.
/// </remarks>
public static class LinearKernel
{
    /// <summary>Rows and columns of y per group.</summary>
    public const int Tile = 64;

    /// <summary>Reduction columns staged per step.</summary>
    public const int TileK = 16;

    /// <summary>Threads per axis of a group (Tile = Threads·Block).</summary>
    public const int Threads = 16;

    /// <summary>Outputs per thread and axis.</summary>
    public const int Block = Tile / Threads;

    /// <summary>Shared tiles are padded by one float so the transposed stores spread over the banks.</summary>
    private const int TilePad = Tile + 1;

    /// <summary>Runtime sizes and switches of one launch (activation: an <see cref="Activation"/> value; flags 0 or 1).</summary>
    public readonly record struct Sizes(int Rows, int InFeatures, int OutFeatures, int Activation, int HasBias, int HasResidual);

    /// <summary>The kernel; launch with grid (⌈rows/Tile⌉, ⌈out/Tile⌉) and group (Threads, Threads).</summary>
    public static void Run(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> residual,
        ArrayView<float> y, Sizes sizes)
    {
        var xTile = SharedMemory.Allocate<float>(TileK * TilePad);
        var wTile = SharedMemory.Allocate<float>(TileK * TilePad);
        var acc = LocalMemory.Allocate<float>(Block * Block);
        int columnLane = Group.IdxX, rowLane = Group.IdxY;
        int lane = rowLane * Threads + columnLane;
        int firstRow = Grid.IdxX * Tile, firstColumn = Grid.IdxY * Tile;
        int k = sizes.InFeatures;

        for (int i = 0; i < Block * Block; i++)
            acc[i] = 0f;

        for (int k0 = 0; k0 < k; k0 += TileK)
        {
            // Stage: consecutive threads read consecutive k of one row of x and of W.
            for (int e = lane; e < Tile * TileK; e += Threads * Threads)
            {
                int r = e / TileK, kk = e - r * TileK, column = k0 + kk;
                int row = firstRow + r, output = firstColumn + r;
                xTile[kk * TilePad + r] = row < sizes.Rows && column < k ? x[(long)row * k + column] : 0f;
                wTile[kk * TilePad + r] = output < sizes.OutFeatures && column < k ? weight[(long)output * k + column] : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                for (int i = 0; i < Block; i++)
                {
                    float a = xTile[kk * TilePad + rowLane + Threads * i];
                    for (int j = 0; j < Block; j++)
                        acc[i * Block + j] += a * wTile[kk * TilePad + columnLane + Threads * j];
                }
            }
            Group.Barrier(); // the tiles are restaged by the next step
        }

        // Epilogue on the accumulators: bias, activation, residual; y written once.
        for (int i = 0; i < Block; i++)
        {
            int row = firstRow + rowLane + Threads * i;
            if (row >= sizes.Rows)
                break;
            for (int j = 0; j < Block; j++)
            {
                int column = firstColumn + columnLane + Threads * j;
                if (column >= sizes.OutFeatures)
                    break;
                long at = (long)row * sizes.OutFeatures + column;
                float v = acc[i * Block + j];
                if (sizes.HasBias != 0)
                    v += bias[column];
                v = OpMath.Activate(v, sizes.Activation);
                if (sizes.HasResidual != 0)
                    v += residual[at];
                y[at] = v;
            }
        }
    }
}

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
/// Block×Block accumulators (kept in registers as fields of <see cref="Row4"/>).
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
        int columnLane = Group.IdxX, rowLane = Group.IdxY;
        int lane = rowLane * Threads + columnLane;
        int firstRow = Grid.IdxX * Tile, firstColumn = Grid.IdxY * Tile;
        int k = sizes.InFeatures;

        // The Block×Block accumulators as four rows of four fields: a local array would live in .local memory in the PTX.
        Row4 r0 = default, r1 = default, r2 = default, r3 = default;
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
                int at = kk * TilePad;
                float b0 = wTile[at + columnLane], b1 = wTile[at + columnLane + Threads];
                float b2 = wTile[at + columnLane + 2 * Threads], b3 = wTile[at + columnLane + 3 * Threads];
                r0.Add(xTile[at + rowLane], b0, b1, b2, b3);
                r1.Add(xTile[at + rowLane + Threads], b0, b1, b2, b3);
                r2.Add(xTile[at + rowLane + 2 * Threads], b0, b1, b2, b3);
                r3.Add(xTile[at + rowLane + 3 * Threads], b0, b1, b2, b3);
            }
            Group.Barrier(); // the tiles are restaged by the next step
        }

        // Epilogue on the accumulators: bias, activation, residual; y written once.
        Store(r0, firstRow + rowLane, firstColumn + columnLane, bias, residual, y, sizes);
        Store(r1, firstRow + rowLane + Threads, firstColumn + columnLane, bias, residual, y, sizes);
        Store(r2, firstRow + rowLane + 2 * Threads, firstColumn + columnLane, bias, residual, y, sizes);
        Store(r3, firstRow + rowLane + 3 * Threads, firstColumn + columnLane, bias, residual, y, sizes);
    }

    /// <summary>y[row, column + Threads·j] = activation(acc_j + bias) + residual for the outputs inside y.</summary>
    private static void Store(Row4 acc, int row, int column, ArrayView<float> bias, ArrayView<float> residual, ArrayView<float> y, Sizes sizes)
    {
        if (row >= sizes.Rows)
            return;
        for (int j = 0; j < Block; j++)
        {
            int c = column + Threads * j;
            if (c >= sizes.OutFeatures)
                return;
            long at = (long)row * sizes.OutFeatures + c;
            float v = acc[j];
            if (sizes.HasBias != 0)
                v += bias[c];
            v = OpMath.Activate(v, sizes.Activation);
            if (sizes.HasResidual != 0)
                v += residual[at];
            y[at] = v;
        }
    }

    /// <summary>Four accumulators of one thread's output row (Block = 4), columns Threads apart.</summary>
    public struct Row4
    {
        public float C0, C1, C2, C3;

        /// <summary>C_j += a·b_j.</summary>
        public void Add(float a, float b0, float b1, float b2, float b3)
        {
            C0 += a * b0;
            C1 += a * b1;
            C2 += a * b2;
            C3 += a * b3;
        }

        /// <summary>C_j.</summary>
        public readonly float this[int j] => j == 0 ? C0 : j == 1 ? C1 : j == 2 ? C2 : C3;
    }
}

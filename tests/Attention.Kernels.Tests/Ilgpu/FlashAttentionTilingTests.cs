using Attention.Kernels.Ilgpu.Kernels;
using Xunit;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// The ILGPU attention kernel's tiling for every head dim the generator accepts (1–256): its shared memory fits CUDA's
/// 48 KiB static limit, every 4×4 score and output tile has a thread, the tiles are 4-wide, and a group has at most
/// 256 threads (what OpenCL GPUs commonly allow).
/// </summary>
public sealed class FlashAttentionTilingTests
{
    public static IEnumerable<object[]> HeadDims() => Enumerable.Range(1, 256).Select(d => new object[] { d });

    [Theory]
    [MemberData(nameof(HeadDims))]
    public void Tiles_fit_shared_memory_and_every_tile_has_a_thread(int headDim)
    {
        int dim = FlashAttention.PaddedDim(headDim), rows = FlashAttention.BlockRows(headDim), keys = FlashAttention.BlockKeys(headDim);
        int threads = FlashAttention.GroupSize(headDim);
        Assert.True(dim >= headDim && dim % 4 == 0 && dim - headDim < 4, $"padded dim {dim}");
        Assert.True(rows is >= 4 and <= 64 && rows % 4 == 0, $"rows {rows}");
        Assert.True(keys is >= 4 and <= 64 && keys % 4 == 0, $"keys {keys}");
        int sharedFloats = dim * rows + Math.Max(dim * keys, keys * rows + threads) + keys * dim + rows;
        Assert.True(sharedFloats * sizeof(float) <= 48 * 1024, $"D={headDim}: {sharedFloats * sizeof(float)} bytes of shared memory");
        Assert.True(threads >= rows / 4 * (dim / 4) && threads >= rows / 4 * (keys / 4), $"D={headDim}: {threads} threads");
        Assert.True(threads <= 256, $"D={headDim}: {threads} threads");
    }

    [Fact]
    public void The_benchmark_head_dims_get_the_documented_tiles()
    {
        Assert.Equal((64, 60, 256), (FlashAttention.BlockRows(64), FlashAttention.BlockKeys(64), FlashAttention.GroupSize(64)));
        Assert.Equal((32, 28, 256), (FlashAttention.BlockRows(128), FlashAttention.BlockKeys(128), FlashAttention.GroupSize(128)));
        Assert.Equal((16, 12, 256), (FlashAttention.BlockRows(256), FlashAttention.BlockKeys(256), FlashAttention.GroupSize(256)));
    }
}

namespace Attention.Kernels.Memory;

/// <summary>Settings of a <see cref="MemoryPool"/>.</summary>
public sealed record MemoryPoolOptions
{
    /// <summary>Set to <c>1</c> or <c>true</c> to create device pools in checked mode (see <see cref="Checked"/>).</summary>
    public const string CheckedEnvironmentVariable = "ATTENTION_KERNELS_POOL_CHECKED";

    /// <summary>
    /// Most bytes the pool may hold from the device (in use + reserved + cached). An allocation that cannot fit even
    /// after releasing cached blocks throws <see cref="PoolCapacityExceededException"/>. Default: unlimited.
    /// </summary>
    public long Capacity { get; init; } = long.MaxValue;

    /// <summary>
    /// Most bytes kept in the cache of free blocks; beyond it the least recently returned blocks go back to the
    /// device. Default 256 MiB.
    /// </summary>
    public long CacheLimit { get; init; } = 256L << 20;

    /// <summary>
    /// Checked mode, for debugging: the pool records where each block was rented (leak reports show it), poisons
    /// returned blocks with <see cref="MemoryPool.PoisonByte"/> and verifies the poison is intact before reissuing them,
    /// so a write through a stale reference (use after return) throws <see cref="PoolMisuseException"/>. Costs a
    /// device fill and a copy to the host per reuse.
    /// </summary>
    public bool Checked { get; init; }

    /// <summary>
    /// Called with the leaks found when the pool is disposed while blocks are still rented. When null the pool
    /// writes them to <see cref="System.Diagnostics.Trace"/>, and in checked mode throws <see cref="PoolLeakException"/>.
    /// </summary>
    public Action<IReadOnlyList<PoolLeak>>? LeakHandler { get; init; }

    /// <summary>Defaults for a device pool: capacity = memory available to the process, checked mode from the environment.</summary>
    public static MemoryPoolOptions FromEnvironment()
    {
        string? flag = Environment.GetEnvironmentVariable(CheckedEnvironmentVariable);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new MemoryPoolOptions
        {
            Capacity = available > 0 ? available : long.MaxValue,
            Checked = flag is not null && (flag.Trim() == "1" || flag.Trim().Equals("true", StringComparison.OrdinalIgnoreCase)),
        };
    }
}

/// <summary>A block still rented when its pool was disposed.</summary>
/// <param name="Id">The pool's sequence number of the rent.</param>
/// <param name="RequestedBytes">Bytes the caller asked for.</param>
/// <param name="BlockBytes">Bytes of the size-class block.</param>
/// <param name="RentedAt">Stack trace of the rent (checked mode only).</param>
public sealed record PoolLeak(long Id, long RequestedBytes, long BlockBytes, string? RentedAt)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"rent #{Id}: {RequestedBytes} bytes (block {BlockBytes})" + (RentedAt is null ? "" : $" rented at{Environment.NewLine}{RentedAt}");
}

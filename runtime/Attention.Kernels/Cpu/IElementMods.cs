namespace Attention.Kernels.Cpu;

/// <summary>
/// A declaration's own modifiers, as the CPU kernel's scalar element pass (<see cref="FlashAttentionCpu.ApplyMods{TVec, TKernel}"/>)
/// calls them: the user's <c>ScoreMod</c> and <c>MaskMod</c> only. The built-in ALiBi and soft-capping are not here: the tile
/// applies them vectorized after this pass (<see cref="FlashAttentionCpu.ApplyAlibi{TVec}"/>, <see cref="FlashAttentionCpu.ApplySoftCap{TVec}"/>),
/// while <see cref="IAttentionKernel.ScoreMod"/> composes all of them for the backends that evaluate per element.
/// Mods are pure functions of (batch, head, query, key) and, during a launch, of the tensors they read (the <c>tensors</c> argument,
/// the launch's <see cref="AttentionLaunch{T}.ModTensors"/>); the block-mask cache relies on that.
/// </summary>
public interface IElementMods
{
    /// <summary>True if the declaration has a user <c>ScoreMod</c>.</summary>
    static abstract bool HasScoreMod { get; }

    /// <summary>True if the declaration has a <c>MaskMod</c>.</summary>
    static abstract bool HasMaskMod { get; }

    /// <summary>The user's score modifier alone (natural-unit score in and out).</summary>
    static abstract float ScoreMod(float score, int batch, int head, int query, int key, in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors);

    /// <summary>The user's mask modifier (true: query sees key).</summary>
    static abstract bool MaskMod(int batch, int head, int query, int key, in ModTensors<CpuModTensor<int>, CpuModTensor<float>> tensors);

    /// <summary>
    /// True if the <c>MaskMod</c> reads tensors (docs/kernels/mods.md): its block classes then hold for one launch only and are
    /// not cached per launch shape (<see cref="FlashAttentionCpu.BlockMasks{TMods}"/>).
    /// </summary>
    static abstract bool MaskModReadsTensors { get; }
}

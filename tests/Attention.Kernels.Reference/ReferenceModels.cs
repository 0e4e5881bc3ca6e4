namespace Attention.Kernels.Reference;

/// <summary>
/// Node names and sizes of one post-norm transformer encoder layer in a model graph. Attention is the MultiHeadAttention
/// node (its weights are {Attention}.qkv and {Attention}.out); Norm1/Norm2 the LayerNorms; Up/Down the FFN Linears.
/// </summary>
public sealed record EncoderLayerSpec(
    string Attention, string Norm1, string Up, string Down, string Norm2,
    int Features, int Heads, int KvHeads, int HeadDim, int Hidden, AttentionMask Mask);

/// <summary>References for whole blocks, composed from the fp64 node references (rounded to float between nodes).</summary>
public static class ReferenceModels
{
    private static float[] Floats(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>Attention over packed [B, T, (H + 2·KvH)·D] q|k|v heads, self-attention, scale 1/√D → [B, T, H·D].</summary>
    public static double[] PackedAttention(float[] qkv, int batch, int length, int heads, int kvHeads, int headDim, AttentionMask mask,
        int[]? keyLengths = null, ScoreModFunction? scoreMod = null, MaskModFunction? maskMod = null)
    {
        int packed = (heads + 2 * kvHeads) * headDim;
        float[] Slice(int offset, int width)
        {
            var result = new float[batch * length * width];
            for (int r = 0; r < batch * length; r++)
                Array.Copy(qkv, r * packed + offset, result, r * width, width);
            return result;
        }
        var problem = new AttentionProblem(batch, length, length, heads, kvHeads, headDim, mask, 0, 1 / Math.Sqrt(headDim), TensorLayout.BTHD)
        {
            KeyLengths = keyLengths,
            ScoreMod = scoreMod,
            MaskMod = maskMod,
        };
        return ReferenceAttention.Compute(problem, Slice(0, heads * headDim), Slice(heads * headDim, kvHeads * headDim),
            Slice((heads + kvHeads) * headDim, kvHeads * headDim)).Output;
    }

    /// <summary>
    /// x → LayerNorm(x + MHA(x)) → LayerNorm(h + Linear(GELU(Linear(h)))), with weights looked up by (node, name); keys at
    /// or past keyLengths[b] are hidden from every query of batch entry b.
    /// </summary>
    public static double[] EncoderLayer(float[] x, int batch, int length, EncoderLayerSpec s, Func<string, string, float[]> weight,
        int[]? keyLengths = null, double epsilon = 1e-5)
    {
        int rows = batch * length, packed = (s.Heads + 2 * s.KvHeads) * s.HeadDim;
        var qkv = Floats(ReferenceOps.Linear(x, rows, s.Features, weight(s.Attention + ".qkv", "weight"), weight(s.Attention + ".qkv", "bias"), packed, Activation.None, null));
        var context = Floats(PackedAttention(qkv, batch, length, s.Heads, s.KvHeads, s.HeadDim, s.Mask, keyLengths));
        var attended = Floats(ReferenceOps.Linear(context, rows, s.Heads * s.HeadDim, weight(s.Attention + ".out", "weight"), weight(s.Attention + ".out", "bias"), s.Features, Activation.None, null));
        var h = Floats(ReferenceOps.LayerNorm(Floats(ReferenceOps.Add(attended, x)), rows, s.Features, weight(s.Norm1, "gamma"), weight(s.Norm1, "beta"), epsilon));
        var up = Floats(ReferenceOps.Linear(h, rows, s.Features, weight(s.Up, "weight"), weight(s.Up, "bias"), s.Hidden, Activation.Gelu, null));
        var down = Floats(ReferenceOps.Linear(up, rows, s.Hidden, weight(s.Down, "weight"), weight(s.Down, "bias"), s.Features, Activation.None, null));
        return ReferenceOps.LayerNorm(Floats(ReferenceOps.Add(down, h)), rows, s.Features, weight(s.Norm2, "gamma"), weight(s.Norm2, "beta"), epsilon);
    }
}

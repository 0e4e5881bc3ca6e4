using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// Our masks against PyTorch itself: LibTorch 2.10's <c>scaled_dot_product_attention</c> in this process on the same
/// random data, for the semantics we promise to share with it (docs/kernels/masks.md, mods.md): <c>is_causal</c> aligned
/// top-left when Tq ≠ Tk (our <see cref="AttentionMask.CausalTopLeft"/>), a boolean <c>attn_mask</c> (true takes part)
/// and an additive one in each broadcast shape PyTorch accepts, key padding (torch: a boolean mask [B, 1, 1, Tk]) and
/// ALiBi (torch: its bias as an additive mask with the causal −∞ folded in). The fp64 reference in the tests encodes the
/// same rules from PyTorch's documentation; this runs PyTorch. Sizes are odd; no row is left without a visible key
/// (PyTorch returns NaN there, we return zeros: a documented difference, not compared).
/// </summary>
public static partial class TorchSemantics
{
    private const int HeadDim = 24, Heads = 6;

    [ScaledDotProductAttention(HeadDim = HeadDim, Heads = Heads, Mask = AttentionMask.CausalTopLeft)]
    private static partial void TopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    [ScaledDotProductAttention(HeadDim = HeadDim, Heads = Heads)]
    private static partial void BooleanMasked(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<bool> attnMask);

    [ScaledDotProductAttention(HeadDim = HeadDim, Heads = Heads)]
    private static partial void AdditiveMasked(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<float> attnMask);

    [ScaledDotProductAttention(HeadDim = HeadDim, Heads = Heads)]
    private static partial void Padded(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output, Tensor<int> keyLengths);

    // Six heads: the slopes follow the ALiBi paper's rule for a head count that is not a power of two.
    [ScaledDotProductAttention(HeadDim = HeadDim, Heads = Heads, Mask = AttentionMask.CausalTopLeft, Alibi = true)]
    private static partial void AlibiTopLeft(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);

    /// <summary>Relative L2 difference allowed between our fp32 output and LibTorch's fp32 SDPA.</summary>
    private const double Tolerance = 1e-5;

    /// <summary>Runs every case, prints one line each; returns the number that differ from PyTorch.</summary>
    public static int Run(int seed)
    {
        var random = new Random(seed);
        var results = new List<(string Case, double Difference)>();
        var refused = new List<(string Case, string Why)>();
        // A case torch refuses is reported, not compared (e.g. LibTorch 2.10's CPU SDPA rejects a rank-1 attn_mask that its documentation calls broadcastable).
        void Add(string label, Func<double> compare)
        {
            try
            {
                results.Add((label, compare()));
            }
            catch (TorchRefused e)
            {
                refused.Add((label, e.Message));
            }
        }
        const int batch = 2;
        foreach (var (tq, tk) in new[] { (37, 61), (61, 37), (45, 45) })
        {
            var data = new Data(random, batch, tq, tk);
            Add($"is_causal (top-left) Tq{tq} Tk{tk}", () => data.Compare(TopLeft, torchMask: null, isCausal: true));
        }
        {
            var data = new Data(random, batch, 29, 53);
            // Broadcast shapes of attn_mask over [B, H, Tq, Tk], as PyTorch accepts them.
            long[][] shapes = [[53], [29, 53], [batch, 1, 29, 53], [1, Heads, 1, 53], [batch, Heads, 29, 53], [Heads, 29, 53]];
            foreach (long[] shape in shapes)
            {
                // 3/4 of the pairs take part, and key 0 always does, so no row is empty.
                bool[] keep = RandomMask(random, shape, p => p[^1] == 0 || random.NextDouble() < 0.75);
                float[] bias = [.. Enumerable.Range(0, keep.Length).Select(_ => (float)(random.NextDouble() * 4 - 2))];
                string label = $"[{string.Join(", ", shape)}]";
                Add($"boolean attn_mask {label}", () => data.Compare(
                    (q, k, v, o) => { using var m = Tensor.FromArray<bool>(Device.Cpu, keep, [.. shape.Select(s => (int)s)]); BooleanMasked(q, k, v, o, m); },
                    torch.tensor(keep, shape), isCausal: false));
                Add($"additive attn_mask {label}", () => data.Compare(
                    (q, k, v, o) => { using var m = Tensor.FromArray<float>(Device.Cpu, bias, [.. shape.Select(s => (int)s)]); AdditiveMasked(q, k, v, o, m); },
                    torch.tensor(bias, shape), isCausal: false));
            }
        }
        {
            var data = new Data(random, 3, 33, 71);
            int[] lengths = [71, 1 + random.Next(70), 1 + random.Next(70)];
            bool[] keep = new bool[3 * 71];
            for (int b = 0; b < 3; b++)
                for (int j = 0; j < 71; j++)
                    keep[b * 71 + j] = j < lengths[b];
            Add($"key padding, lengths {string.Join("/", lengths)} = bool mask [B, 1, 1, Tk]", () => data.Compare(
                (q, k, v, o) => { using var l = Tensor.FromArray<int>(Device.Cpu, lengths, 3); Padded(q, k, v, o, l); },
                torch.tensor(keep, [3, 1, 1, 71]), isCausal: false));
        }
        {
            var data = new Data(random, batch, 41, 57);
            double[] slopes = AlibiSlopes(Heads);
            float[] bias = new float[Heads * 41 * 57];
            for (int h = 0; h < Heads; h++)
                for (int i = 0; i < 41; i++)
                    for (int j = 0; j < 57; j++)
                        bias[(h * 41 + i) * 57 + j] = j <= i ? (float)(slopes[h] * (j - i)) : float.NegativeInfinity;
            Add("ALiBi, 6 heads, top-left causal = additive bias [H, Tq, Tk]", () => data.Compare(AlibiTopLeft, torch.tensor(bias, [Heads, 41, 57]), isCausal: false));
        }

        int failed = 0;
        foreach (var (label, difference) in results)
        {
            bool ok = difference <= Tolerance;
            failed += ok ? 0 : 1;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(ok ? "ok  " : "FAIL")} {label}: ‖ours − torch‖/‖torch‖ = {difference:E1}"));
        }
        foreach (var (label, why) in refused)
            Console.WriteLine($"  --   {label}: torch refuses it ({why}); ours accepts it");
        Console.WriteLine($"semantics against LibTorch SDPA: {results.Count - failed} of {results.Count} cases agree (tolerance {Tolerance:E0}){(refused.Count > 0 ? $", {refused.Count} refused by torch" : "")}");
        return failed;
    }

    /// <summary>ALiBi's head slopes (Press et al.): 2^(−8(h+1)/n) for n a power of two; otherwise those of the largest power of two below n, then every other slope of twice that.</summary>
    private static double[] AlibiSlopes(int heads)
    {
        static IEnumerable<double> PowerOfTwo(int n) => Enumerable.Range(1, n).Select(i => Math.Pow(2, -8.0 * i / n));
        int below = 1 << (int)Math.Floor(Math.Log2(heads));
        return below == heads ? [.. PowerOfTwo(heads)] : [.. PowerOfTwo(below), .. PowerOfTwo(2 * below).Where((_, i) => i % 2 == 0).Take(heads - below)];
    }

    /// <summary>A mask of <paramref name="shape"/> (row-major) whose element at each index tuple is <paramref name="value"/>.</summary>
    private static bool[] RandomMask(Random random, long[] shape, Func<long[], bool> value)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var mask = new bool[count];
        var index = new long[shape.Length];
        for (long n = 0; n < count; n++)
        {
            long rest = n;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            mask[n] = value(index);
        }
        return mask;
    }

    /// <summary>LibTorch raised an error for a case (its message's first line).</summary>
    private sealed class TorchRefused(string message) : Exception(message);

    /// <summary>One problem's random q, k, v in our [B, T, H, D] layout, runnable by us and by torch.</summary>
    private sealed class Data(Random random, int batch, int queries, int keys)
    {
        private readonly float[] _q = Uniform(random, batch * queries * Heads * HeadDim);
        private readonly float[] _k = Uniform(random, batch * keys * Heads * HeadDim);
        private readonly float[] _v = Uniform(random, batch * keys * Heads * HeadDim);

        private static float[] Uniform(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 4 - 2))];

        /// <summary>Our kernel and torch's SDPA (with <paramref name="torchMask"/>, disposed here) on the same data: ‖ours − torch‖/‖torch‖.</summary>
        public double Compare(Action<Tensor<float>, Tensor<float>, Tensor<float>, Tensor<float>> ours, TorchTensor? torchMask, bool isCausal)
        {
            using var q = Tensor.FromArray<float>(Device.Cpu, _q, batch, queries, Heads, HeadDim);
            using var k = Tensor.FromArray<float>(Device.Cpu, _k, batch, keys, Heads, HeadDim);
            using var v = Tensor.FromArray<float>(Device.Cpu, _v, batch, keys, Heads, HeadDim);
            using var o = Tensor.Create<float>(Device.Cpu, batch, queries, Heads, HeadDim);
            o.Fill(float.NaN);
            ours(q, k, v, o);
            Device.Cpu.Synchronize();
            float[] mine = o.ToArray();

            using var scope = torch.NewDisposeScope();
            using var mode = torch.inference_mode();
            TorchTensor Bhtd(float[] data, int length) => torch.tensor(data, [batch, length, Heads, HeadDim]).permute(0, 2, 1, 3);
            TorchTensor result;
            try
            {
                result = torch.nn.functional.scaled_dot_product_attention(Bhtd(_q, queries), Bhtd(_k, keys), Bhtd(_v, keys), torchMask, 0.0, isCausal);
            }
            catch (System.Runtime.InteropServices.ExternalException e)
            {
                throw new TorchRefused(e.Message.Split('\n')[0]);
            }
            finally
            {
                torchMask?.Dispose();
            }
            float[] theirs = result.permute(0, 2, 1, 3).contiguous().data<float>().ToArray();
            return Benchmarks.Compare.RelativeDifference(mine, theirs); // NaN on either side makes it NaN, which fails the check
        }
    }
}

using Attention.Kernels.Reference;

namespace Attention.Kernels.Tests;

/// <summary>What one run of a kernel against the fp64 reference measured.</summary>
public sealed record AttentionCheck(AttentionProblem Problem, double OutputError, double LogSumExpError, string? Defect)
{
    public override string ToString() =>
        $"{Problem}: ‖out−ref‖/‖ref‖ = {OutputError:E2}, lse error = {LogSumExpError:E2}{(Defect is null ? "" : ", " + Defect)}";
}

/// <summary>Runs declared kernels on any device against the fp64 reference (shared by every backend's numeric suite).</summary>
public static class AttentionHarness
{
    public const double Tolerance = 1e-5;

    /// <summary>Random runtime sizes for a kernel: batch 1–3, lengths 1…<paramref name="maxLength"/> with odd and prime sizes, self or cross.</summary>
    public static AttentionProblem RandomProblem(KernelCase kernel, Random random, int maxLength = 300) =>
        RandomProblem(kernel.HeadDim, kernel.Heads, kernel.KvHeads, kernel.Mask, kernel.Window, kernel.Scale, kernel.Layout, random, maxLength)
            with { ScoreMod = kernel.ScoreMod, MaskMod = kernel.MaskMod };

    /// <summary>
    /// Random runtime sizes for a kernel with these compile-time constants; <paramref name="maxLength"/> is the longest sequence
    /// drawn (300 for the CPU backend; ILGPU's CPU accelerator, ~700x slower, takes ~100).
    /// </summary>
    public static AttentionProblem RandomProblem(int headDim, int heads, int kvHeads, AttentionMask mask, int window, float scale,
        TensorLayout layout, Random random, int maxLength = 300)
    {
        int[] interesting = [.. new[] { 1, 2, 3, 5, 7, 13, 31, 33, 63, 64, 65, 97, 127, 128, 129, 191, 211, 255, 257, 293 }.Where(n => n <= maxLength)];
        int Length() => random.Next(3) == 0 ? interesting[random.Next(interesting.Length)] : random.Next(1, maxLength + 1);
        int batch = random.Next(1, maxLength >= 300 ? 4 : 3);
        int queryLength = Length();
        int keyLength = random.Next(2) == 0 ? queryLength : Length(); // self- and cross-attention
        // Keep the fp64 reference affordable for the widest heads.
        if (headDim >= 128 && batch * heads > 8)
            batch = 1;
        return new AttentionProblem(batch, queryLength, keyLength, heads, kvHeads, headDim, mask, window, scale, layout);
    }

    /// <summary>Uploads fresh random inputs, poisons the outputs with NaN, runs the kernel, compares with the reference.</summary>
    public static AttentionCheck Run(KernelCase kernel, AttentionProblem p, Device device, Random random) =>
        RunCore(kernel, p, device, random, out _, out _);

    /// <summary>
    /// As <see cref="Run(KernelCase, AttentionProblem, Device, Random)"/>, and reports, per query row, whether its output
    /// is zero in every batch, head and element (a row that saw no key) and how many log-sum-exp values are finite.
    /// </summary>
    public static AttentionCheck Run(KernelCase kernel, AttentionProblem p, Device device, Random random, out bool[] zeroRows, out int finiteLogSumExp)
    {
        var check = RunCore(kernel, p, device, random, out float[] output, out float[]? lse);
        zeroRows = new bool[p.QueryLength];
        for (int i = 0; i < p.QueryLength; i++)
        {
            bool zero = true;
            for (int b = 0; b < p.Batch && zero; b++)
            for (int h = 0; h < p.Heads && zero; h++)
            for (int d = 0; d < p.HeadDim && zero; d++)
                zero = output[p.Index(b, i, h, d, p.Heads, p.QueryLength)] == 0f;
            zeroRows[i] = zero;
        }
        finiteLogSumExp = lse?.Count(float.IsFinite) ?? 0;
        return check;
    }

    private static AttentionCheck RunCore(KernelCase kernel, AttentionProblem p, Device device, Random random, out float[] output, out float[]? lse)
    {
        float[] q = RandomData.Uniform(random, p.QueryElements, 2f);
        float[] k = RandomData.Uniform(random, p.KeyElements, 2f);
        float[] v = RandomData.Uniform(random, p.KeyElements);
        var (expected, expectedLse) = ReferenceAttention.Compute(p, q, k, v);

        var (launchedOutput, launchedLse) = Launch(kernel, p, device, q, k, v);
        output = launchedOutput;
        lse = kernel.HasLogSumExp ? launchedLse : null;
        return Evaluate(p, output, lse, expected, expectedLse);
    }

    /// <summary>Uploads q, k, v to <paramref name="device"/>, poisons the outputs with NaN, runs the kernel, downloads output and log-sum-exp (empty without one).</summary>
    public static (float[] Output, float[] LogSumExp) Launch(KernelCase kernel, AttentionProblem p, Device device, float[] q, float[] k, float[] v)
    {
        using var qt = Tensor.FromArray<float>(device, q, p.QueryShape);
        using var kt = Tensor.FromArray<float>(device, k, p.KeyShape);
        using var vt = Tensor.FromArray<float>(device, v, p.KeyShape);
        using var ot = Tensor.Create<float>(device, p.QueryShape);
        using var lt = kernel.HasLogSumExp ? Tensor.Create<float>(device, p.Batch, p.Heads, p.QueryLength) : null;
        ot.Fill(float.NaN);
        lt?.Fill(float.NaN);
        kernel.Run(qt, kt, vt, ot, lt);
        device.Synchronize();
        return (ot.ToArray(), lt?.ToArray() ?? []);
    }

    /// <summary>Compares a kernel's output (and log-sum-exp, when it has one) with the reference; finds NaN and non-zero masked rows.</summary>
    public static AttentionCheck Evaluate(AttentionProblem p, float[] output, float[]? lse, double[] expected, double[] expectedLse)
    {
        string? defect = null;
        int nan = output.Count(float.IsNaN);
        if (nan > 0)
            defect = $"{nan} output elements still NaN (not written, or NaN produced)";
        defect ??= CheckMaskedRowsAreZero(p, output);

        double lseError = 0;
        if (lse is not null)
        {
            for (int i = 0; i < lse.Length; i++)
            {
                if (double.IsNegativeInfinity(expectedLse[i]))
                {
                    if (!float.IsNegativeInfinity(lse[i]))
                        defect ??= $"log-sum-exp of a row with no visible key is {lse[i]}, expected −∞";
                }
                else
                {
                    // Relative to max(1, |lse|): lse is a log, its absolute error is what matters near 0.
                    lseError = Math.Max(lseError, Math.Abs(lse[i] - expectedLse[i]) / Math.Max(1, Math.Abs(expectedLse[i])));
                }
            }
            if (double.IsNaN(lseError))
                defect ??= "log-sum-exp has NaN";
        }
        return new AttentionCheck(p, Accuracy.RelativeError(output, expected), lseError, defect);
    }

    private static string? CheckMaskedRowsAreZero(AttentionProblem p, float[] output)
    {
        // Per (batch, head, row): a mask modifier may hide a row in some heads only.
        for (int b = 0; b < p.Batch; b++)
        for (int h = 0; h < p.Heads; h++)
        for (int i = 0; i < p.QueryLength; i++)
        {
            bool anyVisible = false;
            for (int j = 0; j < p.KeyLength && !anyVisible; j++)
                anyVisible = ReferenceAttention.Visible(p, b, h, i, j);
            if (anyVisible)
                continue;
            for (int d = 0; d < p.HeadDim; d++)
            {
                float value = output[p.Index(b, i, h, d, p.Heads, p.QueryLength)];
                if (value != 0f)
                    return $"query row {i} sees no key but output[{b},{i},{h},{d}] = {value}, expected 0";
            }
        }
        return null;
    }

    /// <summary>The seed of this test run: fresh each run, or AK_TEST_SEED to replay a failure.</summary>
    public static int RunSeed { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("AK_TEST_SEED"), out int seed) ? seed : Random.Shared.Next();
}

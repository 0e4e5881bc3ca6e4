namespace Attention.Kernels.Reference;

/// <summary>How far a float result is from its fp64 reference.</summary>
public static class Accuracy
{
    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ (the absolute norm of the difference when the reference is all zeros). NaN in actual gives NaN.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Lengths differ: {actual.Length} vs {expected.Length}.");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = actual[i] - expected[i];
            diff += e * e;
            norm += expected[i] * expected[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    /// <summary>Largest |actual − expected|.</summary>
    public static double MaxAbsoluteError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
            max = Math.Max(max, double.IsNaN(actual[i]) ? double.PositiveInfinity : Math.Abs(actual[i] - expected[i]));
        return max;
    }
}

/// <summary>Seeded random test data: never zeros, so a kernel that writes nothing cannot pass.</summary>
public static class RandomData
{
    /// <summary><paramref name="count"/> values uniform in [−<paramref name="amplitude"/>, <paramref name="amplitude"/>).</summary>
    public static float[] Uniform(Random random, int count, float amplitude = 1f)
    {
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
            data[i] = (float)((random.NextDouble() * 2 - 1) * amplitude);
        return data;
    }
}

namespace Attention.Kernels.Scheduling;

/// <summary>
/// The balancer's formulas (DESIGN.md, "attention balancer"), as pure functions:
/// w_i = Σ_k a_ik·complexity_k, α_i = w_i / Σ_j w_j, C_avail = C − Σ_i c'_i, C_remain = C − Σ_i min(c_i, c'_i),
/// where C is the capacity, c_i a task's memory demand and c'_i its current use; and the re-weighting of a task's
/// attention vector Ã_i = α_i / (Σ_k α_i·a_ik) · A_k (<see cref="Reweight"/>).
/// </summary>
public static class BalancerMath
{
    /// <summary>w_i = Σ_k a_ik · complexity_k: a task's importance from its indicators and the indicators' complexities.</summary>
    /// <exception cref="ArgumentException">The spans differ in length, a value is negative or not finite, or the sum is not positive.</exception>
    public static double Weight(ReadOnlySpan<double> indicators, ReadOnlySpan<double> complexities)
    {
        if (indicators.Length != complexities.Length)
            throw new ArgumentException($"{indicators.Length} indicators but {complexities.Length} complexities; they pair up by index k.", nameof(complexities));
        double weight = 0;
        for (int k = 0; k < indicators.Length; k++)
        {
            if (!double.IsFinite(indicators[k]) || indicators[k] < 0)
                throw new ArgumentException($"Indicator a[{k}] = {indicators[k]} must be finite and ≥ 0.", nameof(indicators));
            if (!double.IsFinite(complexities[k]) || complexities[k] < 0)
                throw new ArgumentException($"Complexity[{k}] = {complexities[k]} must be finite and ≥ 0.", nameof(complexities));
            weight += indicators[k] * complexities[k];
        }
        CheckWeight(weight, nameof(indicators));
        return weight;
    }

    /// <summary>α_i = w_i / Σ_j w_j for every task (empty in, empty out).</summary>
    public static double[] Shares(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (double w in weights)
        {
            CheckWeight(w, nameof(weights));
            total += w;
        }
        var shares = new double[weights.Length];
        for (int i = 0; i < shares.Length; i++)
            shares[i] = weights[i] / total;
        return shares;
    }

    /// <summary>
    /// The documents' re-weighting of task i's attention vector: Ã_i = α_i / (Σ_k α_i·a_ik) · A_k for every component k,
    /// computed as the formula reads. α_i cancels, so the result is A_k / Σ_k a_ik: the share does not change the
    /// direction or the size of the re-weighted vector, only the indicators' sum does.
    /// </summary>
    /// <param name="alpha">α_i, the task's share (finite, &gt; 0).</param>
    /// <param name="indicators">a_ik, the task's indicators (finite, ≥ 0, positive sum).</param>
    /// <param name="attention">A_k, the attention vector to re-weight (one component per indicator).</param>
    /// <exception cref="ArgumentException">The spans differ in length, or a value is negative or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">α_i or Σ_k a_ik is not finite and positive.</exception>
    public static double[] Reweight(double alpha, ReadOnlySpan<double> indicators, ReadOnlySpan<double> attention)
    {
        CheckWeight(alpha, nameof(alpha));
        if (indicators.Length != attention.Length)
            throw new ArgumentException($"{indicators.Length} indicators but {attention.Length} attention components; they pair up by index k.", nameof(attention));
        double sum = 0;
        for (int k = 0; k < indicators.Length; k++)
        {
            if (!double.IsFinite(indicators[k]) || indicators[k] < 0)
                throw new ArgumentException($"Indicator a[{k}] = {indicators[k]} must be finite and ≥ 0.", nameof(indicators));
            if (!double.IsFinite(attention[k]))
                throw new ArgumentException($"Attention component A[{k}] = {attention[k]} must be finite.", nameof(attention));
            sum += alpha * indicators[k];
        }
        if (!double.IsFinite(sum) || sum <= 0)
            throw new ArgumentOutOfRangeException(nameof(indicators), sum, "Σ_k α_i·a_ik must be finite and > 0 (at least one indicator must be positive).");
        double factor = alpha / sum;
        var result = new double[attention.Length];
        for (int k = 0; k < result.Length; k++)
            result[k] = factor * attention[k];
        return result;
    }

    /// <summary>C_avail = C − Σ_i c'_i: capacity not used by any task now.</summary>
    public static long Available(long capacity, ReadOnlySpan<long> uses)
    {
        long used = 0;
        foreach (long u in uses)
            used += u;
        return capacity - used;
    }

    /// <summary>C_remain = C − Σ_i min(c_i, c'_i): capacity left once each task's use is counted only up to its demand.</summary>
    public static long Remaining(long capacity, ReadOnlySpan<long> demands, ReadOnlySpan<long> uses)
    {
        if (demands.Length != uses.Length)
            throw new ArgumentException($"{demands.Length} demands but {uses.Length} uses; they pair up by task.", nameof(uses));
        long counted = 0;
        for (int i = 0; i < demands.Length; i++)
            counted += Math.Min(demands[i], uses[i]);
        return capacity - counted;
    }

    internal static void CheckWeight(double weight, string argument)
    {
        if (!double.IsFinite(weight) || weight <= 0)
            throw new ArgumentOutOfRangeException(argument, weight, "An importance weight must be finite and > 0.");
    }
}

/// <summary>A task's importance: the weight w_i, given directly or from indicators (w_i = Σ_k a_ik·complexity_k).</summary>
public readonly record struct Importance
{
    private Importance(double weight) => Weight = weight;

    /// <summary>w_i (finite, &gt; 0).</summary>
    public double Weight { get; }

    /// <summary>An importance with weight <paramref name="weight"/>.</summary>
    public static Importance FromWeight(double weight)
    {
        BalancerMath.CheckWeight(weight, nameof(weight));
        return new Importance(weight);
    }

    /// <summary>w_i = Σ_k a_ik · complexity_k (see <see cref="BalancerMath.Weight"/>).</summary>
    public static Importance FromIndicators(ReadOnlySpan<double> indicators, ReadOnlySpan<double> complexities) =>
        new(BalancerMath.Weight(indicators, complexities));

    /// <summary>Same as <see cref="FromWeight"/>.</summary>
    public static implicit operator Importance(double weight) => FromWeight(weight);

    /// <inheritdoc />
    public override string ToString() => $"w = {Weight:G4}";
}

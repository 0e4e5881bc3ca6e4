using Attention.Kernels.Scheduling;
using Xunit;

namespace Attention.Kernels.Tests.Scheduling;

/// <summary>The documents' formulas with their own table (DESIGN.md: the formulas, not the source's arithmetic slips).</summary>
public sealed class BalancerMathTests
{
    [Fact]
    public void Capacity_table_C200_gives_C_avail_and_C_remain_165()
    {
        const long C = 200;
        long[] demand = [50, 30];   // c_i
        long[] use = [20, 15];      // c'_i
        Assert.Equal(165, BalancerMath.Available(C, use));            // 200 − (20 + 15)
        Assert.Equal(165, BalancerMath.Remaining(C, demand, use));    // 200 − (min(50,20) + min(30,15))
    }

    [Fact]
    public void Remaining_counts_use_only_up_to_demand()
    {
        // A task using more than it declared counts only its demand in C_remain, but all its use in C_avail.
        Assert.Equal(200 - 70, BalancerMath.Available(200, [60, 10]));
        Assert.Equal(200 - (50 + 10), BalancerMath.Remaining(200, [50, 30], [60, 10]));
    }

    [Fact]
    public void Weights_054_046_give_shares_054_046_not_half_half()
    {
        double[] alpha = BalancerMath.Shares([0.54, 0.46]);
        Assert.Equal(0.54, alpha[0], 12);
        Assert.Equal(0.46, alpha[1], 12);
    }

    [Theory]
    [InlineData(new[] { 2.0, 1.0, 1.0 }, new[] { 0.5, 0.25, 0.25 })]
    [InlineData(new[] { 0.5, 0.3, 0.2 }, new[] { 0.5, 0.3, 0.2 })]
    [InlineData(new[] { 7.0 }, new[] { 1.0 })]
    public void Shares_are_weights_over_their_sum(double[] weights, double[] expected)
    {
        double[] alpha = BalancerMath.Shares(weights);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], alpha[i], 12);
        Assert.Equal(1.0, alpha.Sum(), 12);
    }

    [Fact]
    public void Weight_from_indicators_is_the_sum_of_indicator_times_complexity()
    {
        // w_i = Σ_k a_ik · complexity_k: a = (0.2, 0.5, 1), complexity = (1, 0.4, 0.14) → 0.2 + 0.2 + 0.14 = 0.54
        Assert.Equal(0.54, BalancerMath.Weight([0.2, 0.5, 1.0], [1.0, 0.4, 0.14]), 12);
        Assert.Equal(0.54, Importance.FromIndicators([0.2, 0.5, 1.0], [1.0, 0.4, 0.14]).Weight, 12);
    }

    [Fact]
    public void Reweighting_divides_the_attention_vector_by_the_indicator_sum_and_alpha_cancels()
    {
        // Ã_i = α_i / (Σ_k α_i·a_ik) · A_k with the documents' indicators a = (0.2, 0.5, 1) and share α = 0.54, re-weighting
        // the task's own indicator vector (A = a): Σ_k α·a_k = 0.54·1.7 = 0.918, so Ã = 0.54/0.918·A = A/1.7
        // = (2/17, 5/17, 10/17) ≈ (0.1176, 0.2941, 0.5882). The documents print 2/3 and 5/9 here; those are slips
        // (no α or indicator sum of the example gives them). The components now sum to 1.
        double[] a = [0.2, 0.5, 1.0];
        double[] reweighted = BalancerMath.Reweight(0.54, a, a);
        double[] expected = [2.0 / 17, 5.0 / 17, 10.0 / 17];
        Assert.Equal(expected.Length, reweighted.Length);
        for (int k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k], reweighted[k], 12);
        Assert.Equal(1.0, reweighted.Sum(), 12);

        // α_i cancels: any share gives A_k / Σ_k a_ik.
        double[] attention = [3.0, 1.0, 2.0];
        foreach (double alpha in new[] { 0.46, 0.54, 1.0, 7.5 })
        {
            double[] r = BalancerMath.Reweight(alpha, a, attention);
            for (int k = 0; k < attention.Length; k++)
                Assert.Equal(attention[k] / 1.7, r[k], 12);
        }
    }

    [Fact]
    public void Reweighting_rejects_invalid_input()
    {
        Assert.Throws<ArgumentException>(() => BalancerMath.Reweight(0.5, [1.0, 2.0], [1.0]));
        Assert.Throws<ArgumentException>(() => BalancerMath.Reweight(0.5, [-1.0], [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancerMath.Reweight(0.5, [0.0, 0.0], [1.0, 1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancerMath.Reweight(0.0, [1.0], [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancerMath.Reweight(double.NaN, [1.0], [1.0]));
    }

    [Fact]
    public void Invalid_importance_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => BalancerMath.Weight([1.0], [1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => BalancerMath.Weight([-1.0], [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancerMath.Weight([0.0], [1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Importance.FromWeight(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancerMath.Shares([1.0, 0.0]));
    }

    [Fact]
    public void The_balancer_snapshot_reports_the_same_figures()
    {
        using var sim = new BalancerSimulation(capacity: 200);
        var a = sim.Balancer.Register("a", 0.54, memoryDemand: 50);
        var b = sim.Balancer.Register("b", 0.46, memoryDemand: 30);
        var s = sim.Balancer.Snapshot();
        Assert.Equal(0.54, s.Tasks[0].Alpha, 12);
        Assert.Equal(0.46, s.Tasks[1].Alpha, 12);
        Assert.Equal((200L, 200L, 200L), (s.Capacity, s.Available, s.Remaining));

        // Running launches use c' = 20 and 15 (the slots make them concurrent).
        using var sim2 = new BalancerSimulation(slots: 2, capacity: 200);
        var a2 = sim2.Balancer.Register("a", 0.54, memoryDemand: 50);
        var b2 = sim2.Balancer.Register("b", 0.46, memoryDemand: 30);
        var ta = a2.SubmitAsync(new LaunchRequest(_ => { }, default) { MemoryBytes = 20, Estimate = TimeSpan.FromMilliseconds(1) });
        var tb = b2.SubmitAsync(new LaunchRequest(_ => { }, default) { MemoryBytes = 15, Estimate = TimeSpan.FromMilliseconds(1) });
        s = sim2.Balancer.Snapshot();
        Assert.Equal((20L, 15L), (s.Tasks[0].UseBytes, s.Tasks[1].UseBytes));
        Assert.Equal((165L, 165L), (s.Available, s.Remaining));
        sim2.Run();
        Assert.True(ta.IsCompletedSuccessfully && tb.IsCompletedSuccessfully);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
    }
}

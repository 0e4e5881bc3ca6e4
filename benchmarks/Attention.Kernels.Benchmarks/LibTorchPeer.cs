using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Attention.Kernels.Benchmarks;

/// <summary>
/// LibTorch 2.10 (TorchSharp 0.107, CPU) in the benchmark's own process: <c>scaled_dot_product_attention</c>, which
/// dispatches to LibTorch's fused flash-attention CPU kernel, and the naive composition softmax(QKᵀ·scale + mask)·V,
/// each prepared on one shape's data and then called by the runner's own timer, interleaved with ours.
/// </summary>
/// <remarks>
/// Inputs are handed to torch as contiguous [B, H, T, D] (its fastest layout here; the copy from our [B, T, H, D] is
/// made once, outside the timing). TorchSharp 0.107 has no <c>enable_gqa</c>: for grouped-query shapes K and V are
/// repeated to all heads once, outside the timing. Every call runs in inference mode with its temporaries disposed.
/// </remarks>
public sealed class LibTorchPeer
{
    private LibTorchPeer(string description) => Description = description;

    /// <summary>Version and threads, for the page.</summary>
    public string Description { get; }

    /// <summary>
    /// Loads LibTorch with <paramref name="threads"/> intra-op threads, first patching the build output's copy of
    /// TorchSharp's glue if this system's libstdc++ is too old for it (<see cref="LibTorchSharpPatch"/>).
    /// </summary>
    /// <returns>The peer, or null with the reason it could not load.</returns>
    public static LibTorchPeer? TryStart(int threads, out string? whyNot)
    {
        whyNot = null;
        try
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && RuntimeInformation.ProcessArchitecture == Architecture.X64)
                PatchGlue();
            return Start(threads);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or InvalidDataException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            whyNot = (e.InnerException ?? e).Message.Split('\n')[0];
            return null;
        }
    }

    /// <summary>The glue's path in the build output (TorchSharp loads it from there).</summary>
    public static string GluePath => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static void PatchGlue()
    {
        string path = GluePath;
        if (!File.Exists(path))
            throw new DllNotFoundException($"{path} is missing (TorchSharp's native glue: restore and build the benchmark project)");
        byte[] bytes = File.ReadAllBytes(path);
        var (outcome, symbols) = LibTorchSharpPatch.Apply(bytes);
        if (outcome != LibTorchSharpPatch.Outcome.Patched)
            return;
        File.WriteAllBytes(path, bytes);
        Console.Error.WriteLine($"note: patched the build output's {Path.GetFileName(path)} so this libstdc++ loads it: {LibTorchSharpPatch.MissingVersion} weak, {string.Join(", ", symbols)} weak and unversioned (see LibTorchSharpPatch.cs)");
    }

    // Not inlined: TorchSharp's native library loads with the first call into torch, which must come after the patch.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static LibTorchPeer Start(int threads)
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        torch.set_num_threads(threads);
        return new LibTorchPeer($"LibTorch {torch.__version__} (TorchSharp 0.107.0), {torch.get_num_threads()} intra-op threads");
    }

    /// <summary>
    /// Prepares torch's SDPA (or with <paramref name="naive"/> the composition) on one shape's q, k, v in our
    /// [B, T, H, D] layout; with <paramref name="bf16"/> in bfloat16 (inputs rounded once, outside the timing).
    /// </summary>
    public Call Prepare(AttentionShape shape, float[] q, float[] k, float[] v, bool naive, bool bf16 = false) =>
        new(shape, q, k, v, naive, bf16);

    /// <summary>Seconds of one sgemm of n×n×n fp32 (torch.matmul, MKL), median of a few, after one warm-up call.</summary>
    public static double SgemmGflops(int n = 4096, int reps = 5)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var a = torch.rand(n, n);
        var b = torch.rand(n, n);
        var times = new double[reps];
        torch.matmul(a, b).Dispose();
        for (int i = 0; i < reps; i++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            torch.matmul(a, b).Dispose();
            times[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return 2.0 * n * n * (double)n / times[reps / 2] / 1e9;
    }

    /// <summary>One prepared torch computation: inputs held as torch tensors, <see cref="Run"/> computes and frees the output.</summary>
    public sealed class Call : IDisposable
    {
        private readonly TorchTensor _q, _k, _v;
        private readonly TorchTensor? _mask;
        private readonly bool _naive, _causal;
        private readonly double _scale;
        private readonly DisposeScope _scope;

        internal Call(AttentionShape s, float[] q, float[] k, float[] v, bool naive, bool bf16)
        {
            _scope = torch.NewDisposeScope();
            _naive = naive;
            _causal = s.Causal;
            _scale = 1.0 / Math.Sqrt(s.HeadDim);
            var type = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
            _q = Heads(q, s.Batch, s.QueryLength, s.Heads, s.HeadDim, 1, type);
            _k = Heads(k, s.Batch, s.KeyLength, s.KvHeads, s.HeadDim, s.Heads / s.KvHeads, type);
            _v = Heads(v, s.Batch, s.KeyLength, s.KvHeads, s.HeadDim, s.Heads / s.KvHeads, type);
            // Our causal mask is aligned bottom-right; torch's is_causal top-left: the same when Tq = Tk, the only causal case here.
            if (s.Causal && s.QueryLength != s.KeyLength)
                throw new NotSupportedException($"{s}: torch's is_causal aligns top-left, ours bottom-right");
            if (naive && s.Causal)
                _mask = torch.ones(s.QueryLength, s.KeyLength, dtype: ScalarType.Bool).triu(1);
            _scope.MoveToOuter(_q, _k, _v);
            if (_mask is not null)
                _scope.MoveToOuter(_mask);
            _scope.Dispose();
            _scope = torch.NewDisposeScope();
        }

        private static TorchTensor Heads(float[] data, int batch, int length, int heads, int dim, int repeat, ScalarType type)
        {
            using var bthd = torch.tensor(data, [batch, length, heads, dim]);
            var bhtd = bthd.permute(0, 2, 1, 3);
            if (repeat > 1)
                bhtd = bhtd.repeat_interleave(repeat, dim: 1);
            return bhtd.to_type(type).contiguous();
        }

        public void Run()
        {
            using var mode = torch.inference_mode();
            using var scope = torch.NewDisposeScope();
            Compute();
        }

        /// <summary>The output in [B, T, H, D] as fp32 (for the agreement check).</summary>
        public float[] Output()
        {
            using var mode = torch.inference_mode();
            using var scope = torch.NewDisposeScope();
            return Compute().permute(0, 2, 1, 3).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        }

        private TorchTensor Compute()
        {
            if (!_naive)
                return torch.nn.functional.scaled_dot_product_attention(_q, _k, _v, null, 0.0, _causal); // positional: TorchSharp spells the flag is_casual
            var scores = torch.matmul(_q, _k.transpose(-2, -1)).mul_(_scale);
            if (_mask is not null)
                scores.masked_fill_(_mask, float.NegativeInfinity);
            return torch.matmul(scores.softmax(-1), _v);
        }

        public void Dispose()
        {
            _scope.Dispose();
            _q.Dispose(); _k.Dispose(); _v.Dispose(); _mask?.Dispose();
        }
    }
}

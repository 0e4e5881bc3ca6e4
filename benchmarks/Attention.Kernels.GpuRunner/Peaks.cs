using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Attention.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Attention.Kernels.GpuRunner;

/// <summary>
/// The device's peaks, measured in the same run by ILGPU kernels: fp32 FMA throughput on the SIMT cores, packed fp16
/// FMA throughput (inline PTX <c>fma.rn.f16x2</c>, CUDA only) and memory bandwidth (a copy kernel). A fused
/// multiply-add counts 2 FLOPs, an fp16x2 one 4. Tensor cores are not measured (the attention kernel does not use them).
/// </summary>
internal static class Peaks
{
    /// <summary>Independent FMA chains per thread (hide the FMA latency) and FMAs per chain per loop trip.</summary>
    public const int Chains = 8, Unroll = 4, Threads = 256;

    /// <summary>
    /// fp32 multiply-add kernel as plain C#: eight independent chains of <c>a = a·b + c</c> in registers. b, c and the
    /// trip count are launch arguments and the sums are stored, so nothing folds or dies. ILGPU emits each step as
    /// <c>mul.f32</c> + <c>add.f32</c> (no rounding modifier, so ptxas may contract them into one FFMA, as it may in the
    /// attention kernel); the run times it next to <see cref="Fp32FmaPtx"/> to show whether it does. Runs on every accelerator.
    /// </summary>
    public static void Fp32MulAdd(ArrayView<float> output, float b, float c, int trips)
    {
        int i = Grid.GlobalIndex.X;
        float a0 = i * 1e-6f, a1 = a0 + 0.1f, a2 = a0 + 0.2f, a3 = a0 + 0.3f, a4 = a0 + 0.4f, a5 = a0 + 0.5f, a6 = a0 + 0.6f, a7 = a0 + 0.7f;
        for (int n = 0; n < trips; n++)
        {
            a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c; a3 = a3 * b + c; a4 = a4 * b + c; a5 = a5 * b + c; a6 = a6 * b + c; a7 = a7 * b + c;
            a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c; a3 = a3 * b + c; a4 = a4 * b + c; a5 = a5 * b + c; a6 = a6 * b + c; a7 = a7 * b + c;
            a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c; a3 = a3 * b + c; a4 = a4 * b + c; a5 = a5 * b + c; a6 = a6 * b + c; a7 = a7 * b + c;
            a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c; a3 = a3 * b + c; a4 = a4 * b + c; a5 = a5 * b + c; a6 = a6 * b + c; a7 = a7 * b + c;
        }
        output[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }

    /// <summary>
    /// The fp32 FMA peak kernel: the same chains, each step one <c>fma.rn.f32</c> through ILGPU's inline PTX
    /// (<see cref="CudaAsm"/>), because ILGPU never emits an FMA from C# (and <c>MathF.FusedMultiplyAdd</c> miscompiles).
    /// The loop body is written out (32 FMAs a trip): ILGPU does not unroll. CUDA only.
    /// </summary>
    public static void Fp32FmaPtx(ArrayView<float> output, float b, float c, int trips)
    {
        int i = Grid.GlobalIndex.X;
        float a0 = i * 1e-6f, a1 = a0 + 0.1f, a2 = a0 + 0.2f, a3 = a0 + 0.3f, a4 = a0 + 0.4f, a5 = a0 + 0.5f, a6 = a0 + 0.6f, a7 = a0 + 0.7f;
        for (int n = 0; n < trips; n++)
        {
            a0 = Fma(a0, b, c);
            a1 = Fma(a1, b, c);
            a2 = Fma(a2, b, c);
            a3 = Fma(a3, b, c);
            a4 = Fma(a4, b, c);
            a5 = Fma(a5, b, c);
            a6 = Fma(a6, b, c);
            a7 = Fma(a7, b, c);
            a0 = Fma(a0, b, c);
            a1 = Fma(a1, b, c);
            a2 = Fma(a2, b, c);
            a3 = Fma(a3, b, c);
            a4 = Fma(a4, b, c);
            a5 = Fma(a5, b, c);
            a6 = Fma(a6, b, c);
            a7 = Fma(a7, b, c);
            a0 = Fma(a0, b, c);
            a1 = Fma(a1, b, c);
            a2 = Fma(a2, b, c);
            a3 = Fma(a3, b, c);
            a4 = Fma(a4, b, c);
            a5 = Fma(a5, b, c);
            a6 = Fma(a6, b, c);
            a7 = Fma(a7, b, c);
            a0 = Fma(a0, b, c);
            a1 = Fma(a1, b, c);
            a2 = Fma(a2, b, c);
            a3 = Fma(a3, b, c);
            a4 = Fma(a4, b, c);
            a5 = Fma(a5, b, c);
            a6 = Fma(a6, b, c);
            a7 = Fma(a7, b, c);
        }
        output[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }

    /// <summary>
    /// Packed fp16 FMA peak kernel: eight chains of <c>fma.rn.f16x2</c> on 32-bit registers holding two halves, through
    /// inline PTX (32 a trip, written out). CUDA only.
    /// </summary>
    public static void Fp16x2Fma(ArrayView<uint> output, uint b, uint c, int trips)
    {
        int i = Grid.GlobalIndex.X;
        uint a0 = 0x3C003C00u ^ (uint)(i & 0xFF), a1 = a0 ^ 0x100u, a2 = a0 ^ 0x200u, a3 = a0 ^ 0x300u, a4 = a0 ^ 0x10001u, a5 = a0 ^ 0x10002u, a6 = a0 ^ 0x10003u, a7 = a0 ^ 0x10004u;
        for (int n = 0; n < trips; n++)
        {
            a0 = Fma2(a0, b, c);
            a1 = Fma2(a1, b, c);
            a2 = Fma2(a2, b, c);
            a3 = Fma2(a3, b, c);
            a4 = Fma2(a4, b, c);
            a5 = Fma2(a5, b, c);
            a6 = Fma2(a6, b, c);
            a7 = Fma2(a7, b, c);
            a0 = Fma2(a0, b, c);
            a1 = Fma2(a1, b, c);
            a2 = Fma2(a2, b, c);
            a3 = Fma2(a3, b, c);
            a4 = Fma2(a4, b, c);
            a5 = Fma2(a5, b, c);
            a6 = Fma2(a6, b, c);
            a7 = Fma2(a7, b, c);
            a0 = Fma2(a0, b, c);
            a1 = Fma2(a1, b, c);
            a2 = Fma2(a2, b, c);
            a3 = Fma2(a3, b, c);
            a4 = Fma2(a4, b, c);
            a5 = Fma2(a5, b, c);
            a6 = Fma2(a6, b, c);
            a7 = Fma2(a7, b, c);
            a0 = Fma2(a0, b, c);
            a1 = Fma2(a1, b, c);
            a2 = Fma2(a2, b, c);
            a3 = Fma2(a3, b, c);
            a4 = Fma2(a4, b, c);
            a5 = Fma2(a5, b, c);
            a6 = Fma2(a6, b, c);
            a7 = Fma2(a7, b, c);
        }
        output[i] = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
    }

    /// <summary>
    /// One <c>fma.rn.f32</c>. The result comes back as a return value: ILGPU gives an inline-PTX output an address
    /// (<c>.local</c>), and a fresh one per step keeps the loop-carried accumulators in registers.
    /// </summary>
    private static float Fma(float a, float b, float c)
    {
        CudaAsm.Emit("fma.rn.f32 %0, %1, %2, %3;", out float d, a, b, c);
        return d;
    }

    /// <summary>One <c>fma.rn.f16x2</c> on two packed halves (as <see cref="Fma"/>).</summary>
    private static uint Fma2(uint a, uint b, uint c)
    {
        CudaAsm.Emit("fma.rn.f16x2 %0, %1, %2, %3;", out uint d, a, b, c);
        return d;
    }

    /// <summary>Copies 8-byte words, grid-stride: 2 × bytes of traffic.</summary>
    public static void Copy(ArrayView<long> source, ArrayView<long> destination)
    {
        long stride = (long)Grid.DimX * ILGPU.Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < source.Length; i += stride)
            destination[i] = source[i];
    }

    /// <summary>Measured peaks in FLOP/s and bytes/s; NaN where not measured on this device.</summary>
    /// <param name="Fp32">fp32 FMA peak: the faster of the inline <c>fma.rn.f32</c> kernel (CUDA) and the plain one.</param>
    /// <param name="Fp32Inline">The inline <c>fma.rn.f32</c> kernel (CUDA only; NaN elsewhere).</param>
    /// <param name="Fp32MulAdd">The plain C# multiply-add kernel (what ILGPU makes of <c>a·b + c</c>).</param>
    /// <param name="Fp16x2">Packed fp16 FMA peak (CUDA only; NaN elsewhere).</param>
    /// <param name="Bandwidth">Copy kernel, bytes read + written per second.</param>
    /// <param name="Note">What was not measured here, and why.</param>
    public readonly record struct Result(double Fp32, double Fp32Inline, double Fp32MulAdd, double Fp16x2, double Bandwidth, string Note);

    public static Result Measure(IlgpuDevice device, bool quick)
    {
        var accelerator = device.Accelerator;
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        // A GPU gets many resident blocks per multiprocessor; the CPU accelerator a token grid (it only proves the flow).
        int blocks = cuda ? accelerator.NumMultiprocessors * 16 : 2;
        int trips = cuda ? (quick ? 1024 : 4096) : 16;
        int repeats = cuda ? (quick ? 3 : 10) : 2;
        var config = new KernelConfig(blocks, Threads);
        using var floats = accelerator.Allocate1D<float>((long)blocks * Threads);
        using var words = accelerator.Allocate1D<uint>((long)blocks * Threads);

        double Best(Action launch, double flops)
        {
            launch(); // compile and warm up
            accelerator.Synchronize();
            double best = 0;
            for (int r = 0; r < repeats; r++)
                best = Math.Max(best, flops / device.Time(launch).TotalSeconds);
            return best;
        }

        double perThread = (double)trips * Unroll * Chains;
        var mulAdd = accelerator.LoadStreamKernel<ArrayView<float>, float, float, int>(Fp32MulAdd);
        double mulAddRate = Best(() => mulAdd(config, floats.View, 0.999f, 0.001f, trips), 2 * perThread * blocks * Threads);
        double inlineRate = double.NaN;

        double fp16Peak = double.NaN;
        string note = "";
        if (cuda)
        {
            var fp32 = accelerator.LoadStreamKernel<ArrayView<float>, float, float, int>(Fp32FmaPtx);
            inlineRate = Best(() => fp32(config, floats.View, 0.999f, 0.001f, trips), 2 * perThread * blocks * Threads);
            var fp16 = accelerator.LoadStreamKernel<ArrayView<uint>, uint, uint, int>(Fp16x2Fma);
            // (0.9995, 0.9995) and (0.001, 0.001) as packed halves.
            fp16Peak = Best(() => fp16(config, words.View, 0x3BFF3BFFu, 0x14001400u, trips), 4 * perThread * blocks * Threads);
        }
        else
        {
            note = $"inline-PTX kernels (fp32 fma.rn.f32, fp16x2) run on CUDA only: skipped on {device.Kind}; the fp32 peak here is the plain multiply-add kernel. Numbers on {device.Kind} check the flow, they are not hardware peaks.";
        }

        long count = cuda ? (quick ? 32L << 20 : 128L << 20) : 1L << 16; // 8-byte words: 256 MiB / 1 GiB per buffer on a GPU
        using var source = accelerator.Allocate1D<long>(count);
        using var destination = accelerator.Allocate1D<long>(count);
        source.MemSetToZero();
        var copy = accelerator.LoadStreamKernel<ArrayView<long>, ArrayView<long>>(Copy);
        var copyConfig = new KernelConfig(cuda ? accelerator.NumMultiprocessors * 8 : 2, Threads);
        double bandwidth = Best(() => copy(copyConfig, source.View, destination.View), 2.0 * count * sizeof(long));
        return new Result(double.IsNaN(inlineRate) ? mulAddRate : Math.Max(inlineRate, mulAddRate), inlineRate, mulAddRate, fp16Peak, bandwidth, note);
    }

    /// <summary>What ILGPU's PTX backend makes of the peak kernels.</summary>
    public readonly record struct PtxCheck(int PtxFmas, int MulAddFmas, int MulAddMuls, int MulAddAdds, int Fp16x2Fmas, int LocalAccesses, string Ptx);

    /// <summary>
    /// Compiles the peak kernels to PTX with ILGPU's PTX backend (SM_80, no driver) and counts instructions: the inline
    /// kernels must hold their 32 <c>fma.rn.f32</c> / <c>fma.rn.f16x2</c> per loop trip with no <c>.local</c> traffic
    /// (inline-PTX operands must stay in registers), and the plain kernel shows how ILGPU lowers <c>a·b + c</c>.
    /// </summary>
    public static PtxCheck CheckPtx()
    {
        using var context = Context.Create(builder => builder.Math(MathMode.Default).Optimize(OptimizationLevel.O1));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null);
        string Ptx(string name)
        {
            var method = typeof(Peaks).GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
            return ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty)).PTXAssembly;
        }
        string fma = Ptx(nameof(Fp32FmaPtx)), mulAdd = Ptx(nameof(Fp32MulAdd)), fp16 = Ptx(nameof(Fp16x2Fma));
        int Count(string text, string pattern) => Regex.Count(text, pattern);
        return new PtxCheck(Count(fma, @"\bfma\.rn\.f32\b"), Count(mulAdd, @"\bfma\.rn\.f32\b"), Count(mulAdd, @"\bmul\.f32\b"), Count(mulAdd, @"\badd\.f32\b"),
            Count(fp16, @"\bfma\.rn\.f16x2\b"), Count(fma + fp16, @"\b(ld|st)\.local\b"),
            $"// ---- Fp32FmaPtx ----\n{fma}\n// ---- Fp32MulAdd ----\n{mulAdd}\n// ---- Fp16x2Fma ----\n{fp16}");
    }
}

using System.Diagnostics;
using System.Reflection;
using Attention.Kernels.Ilgpu.Kernels;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Xunit;
using Xunit.Abstractions;

namespace Attention.Kernels.Tests.Ilgpu;

/// <summary>
/// Every accelerator kernel this test assembly instantiates, compiled by ILGPU's own backends with no driver: PTX for
/// SM_80 and SM_90 (ILGPU caps the PTX target at sm_80; newer GPUs JIT it), and OpenCL C that Debian's clang must accept
/// as OpenCL C 2.0. An ILGPU compile error fails the test; so does clang rejecting the OpenCL C.
/// </summary>
public sealed class KernelCompileTests(ITestOutputHelper log, KernelCompileTests.Backends backends) : IClassFixture<KernelCompileTests.Backends>
{
    /// <summary>One context and one backend per target for the class (ILGPU backends hold caches; a fresh context per kernel is slow).</summary>
    public sealed class Backends : IDisposable
    {
        public Context Context { get; } = Context.Create(builder => builder.EnableAlgorithms().Math(MathMode.Default));

        public PTXBackend Ptx(CudaArchitecture architecture) =>
            new(Context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, nvvmAPI: null);

        public CLBackend OpenCl() =>
            new(Context, new CLCapabilityContext(false, false, false, false, false), CLDeviceVendor.Other, CLCVersion.CL20);

        public void Dispose() => Context.Dispose();
    }

    /// <summary>Every generated <see cref="IAttentionKernel"/> struct in this assembly (declarations and model attention steps).</summary>
    public static IEnumerable<object[]> AttentionKernels() =>
        typeof(KernelCompileTests).Assembly.GetTypes()
            .Where(t => t.IsValueType && typeof(IAttentionKernel).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => new object[] { t.FullName! });

    [Fact]
    public void Every_declared_kernel_is_covered()
    {
        // The test project declares 48 fp32 kernels, 6 fp16/bf16 ones and attention steps in its models.
        Assert.True(AttentionKernels().Count() >= TestKernels.All.Length + Storage.StorageKernels.All.Length);
    }

    [Theory]
    [MemberData(nameof(AttentionKernels))]
    public void Attention_kernel_compiles_to_ptx_and_opencl_c(string kernelType)
    {
        var type = typeof(KernelCompileTests).Assembly.GetType(kernelType)!;
        // Both specializations: whole key ranges, and key splits (flash-decoding) with their partial-row stores.
        Compile(capabilities => FlashAttentionEntryPoint(type, capabilities, typeof(FlashAttention.WholeKeys)), explicitlyGrouped: true, type.Name);
        Compile(capabilities => FlashAttentionEntryPoint(type, capabilities, typeof(FlashAttention.SplitKeys)), explicitlyGrouped: true, type.Name + " (key splits)");
        Compile(capabilities => CombineEntryPoint(FlashAttentionEntryPoint(type, capabilities, typeof(FlashAttention.SplitKeys))), explicitlyGrouped: false, type.Name + " (combine)");
    }

    /// <summary>Every graph-op kernel (one compiled kernel per op serves every model).</summary>
    public static IEnumerable<object[]> GraphOpKernels() =>
        Attention.Kernels.Ilgpu.Ops.GraphOpKernelMethods.All().Select(k => new object[] { $"{k.Method.DeclaringType!.Name}.{k.Method.Name}" });

    [Theory]
    [MemberData(nameof(GraphOpKernels))]
    public void Graph_op_kernel_compiles_to_ptx_and_opencl_c(string name)
    {
        var kernel = Attention.Kernels.Ilgpu.Ops.GraphOpKernelMethods.All().Single(k => $"{k.Method.DeclaringType!.Name}.{k.Method.Name}" == name);
        Compile(_ => kernel.Method, kernel.ExplicitlyGrouped, name);
    }

    [Theory]
    [InlineData(typeof(byte))]
    [InlineData(typeof(ushort))]
    [InlineData(typeof(uint))]
    [InlineData(typeof(ulong))]
    public void Fill_kernel_compiles_to_ptx_and_opencl_c(Type bits)
    {
        var method = typeof(Attention.Kernels.Ilgpu.IlgpuDevice).GetNestedType("FillKernel`1", BindingFlags.NonPublic)!
            .MakeGenericType(bits).GetMethod("Run")!;
        Compile(_ => method, explicitlyGrouped: false, $"Fill<{bits.Name}>");
    }

    /// <summary>The key splits' combine kernel for the same kernel struct and storage as <paramref name="attention"/>.</summary>
    private static MethodInfo CombineEntryPoint(MethodInfo attention) =>
        typeof(FlashAttention).GetMethod(nameof(FlashAttention.CombineKernel))!.MakeGenericMethod(attention.GetGenericArguments()[..3]);

    /// <summary>
    /// The kernel method ILGPU compiles for <paramref name="kernel"/> on a target with <paramref name="capabilities"/>: its
    /// storage read off the generated launch method, fp16 as the runtime picks it (hardware Half or integer conversions).
    /// </summary>
    private static MethodInfo FlashAttentionEntryPoint(Type kernel, CapabilityContext capabilities, Type split)
    {
        var launch = kernel.GetMethods(BindingFlags.Public | BindingFlags.Static).First(m => m.Name is "Launch" or "Run");
        var storage = launch.GetParameters()[0].ParameterType.GetGenericArguments()[0];
        var (element, converter) = storage == typeof(float) ? (typeof(float), typeof(Fp32Storage))
            : storage == typeof(System.Half) && FlashAttention.HasNativeHalf(capabilities) ? (typeof(ILGPU.Half), typeof(Fp16Storage))
            : storage == typeof(System.Half) ? (typeof(ushort), typeof(Fp16BitsStorage))
            : (typeof(ushort), typeof(Bf16Storage));
        return typeof(FlashAttention).GetMethod(nameof(FlashAttention.Kernel))!.MakeGenericMethod(kernel, element, converter, split);
    }

    private void Compile(Func<CapabilityContext, MethodInfo> method, bool explicitlyGrouped, string name)
    {
        EntryPointDescription Entry(Backend backend) => explicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method(backend.Capabilities))
            : EntryPointDescription.FromImplicitlyGroupedKernel(method(backend.Capabilities));
        foreach (var architecture in new[] { CudaArchitecture.SM_80, CudaArchitecture.SM_90 })
        {
            using var ptx = backends.Ptx(architecture);
            var compiled = (PTXCompiledKernel)ptx.Compile(Entry(ptx), KernelSpecialization.Empty);
            Assert.Contains(".entry", compiled.PTXAssembly);
            log.WriteLine($"{name}: PTX for {architecture}: {compiled.PTXAssembly.Length} characters");
        }
        using var openCl = backends.OpenCl();
        var source = ((CLCompiledKernel)openCl.Compile(Entry(openCl), KernelSpecialization.Empty)).Source;
        Assert.Contains("kernel void", source);
        ClangAcceptsOpenClC(source, name);
    }

    /// <summary>clang parses and checks the OpenCL C as OpenCL C 2.0 (the dialect ILGPU targets: generic address space).</summary>
    private void ClangAcceptsOpenClC(string source, string name)
    {
        string? clang = FindClang();
        if (clang is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("AK_REQUIRE_CLANG") != "1",
                "AK_REQUIRE_CLANG=1 but no clang-14/clang on PATH (apt-get install clang-14).");
            log.WriteLine($"{name}: OpenCL C generated ({source.Length} characters); clang not installed, not checked.");
            return;
        }
        var info = new ProcessStartInfo(clang, ["-x", "cl", "-cl-std=CL2.0", "-fsyntax-only", "-Werror=implicit-function-declaration", "-"])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info)!;
        process.StandardInput.Write(source);
        process.StandardInput.Close();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{name}: clang rejected ILGPU's OpenCL C:\n{errors}");
        log.WriteLine($"{name}: OpenCL C ({source.Length} characters) accepted by {clang} -cl-std=CL2.0");
    }

    private static string? FindClang()
    {
        foreach (string candidate in new[] { "clang-14", "clang" })
        {
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            {
                string path = Path.Combine(dir, candidate);
                if (File.Exists(path))
                    return path;
            }
        }
        return null;
    }
}

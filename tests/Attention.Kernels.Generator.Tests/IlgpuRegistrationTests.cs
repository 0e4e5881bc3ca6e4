using Xunit;

namespace Attention.Kernels.Generator.Tests;

/// <summary>
/// A project that references Attention.Kernels.Ilgpu gets a module initializer registering the accelerators (so
/// <c>Device.Default</c> sees them first thing); a CPU-only project gets nothing extra.
/// </summary>
public sealed class IlgpuRegistrationTests
{
    private const string Kernel = """
        using Attention.Kernels;
        public static partial class Kernels
        {
            [ScaledDotProductAttention(HeadDim = 64, Heads = 8)]
            public static partial void Attend(Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float> output);
        }
        """;

    // Stands in for the package: the generator looks for this type by metadata name.
    private const string IlgpuPackage = """
        namespace Attention.Kernels.Ilgpu
        {
            public static class IlgpuBackend
            {
                public static int Registrations;
                public static void Register() => Registrations++;
            }
        }
        """;

    [Fact]
    public void Cpu_only_project_gets_no_registration()
    {
        var (result, output) = GeneratorHarness.Run(Kernel);
        Assert.DoesNotContain(result.GeneratedTrees, t => t.FilePath.EndsWith("IlgpuRegistration.g.cs", StringComparison.Ordinal));
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }

    [Fact]
    public void Project_referencing_the_ilgpu_package_registers_it_from_a_module_initializer()
    {
        var (result, output) = GeneratorHarness.Run(Kernel + IlgpuPackage);
        var registration = Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("IlgpuRegistration.g.cs", StringComparison.Ordinal));
        string text = registration.ToString();
        Assert.Contains("[global::System.Runtime.CompilerServices.ModuleInitializer]", text);
        Assert.Contains("global::Attention.Kernels.Ilgpu.IlgpuBackend.Register();", text);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }

    [Fact]
    public void Registration_step_stays_cached_across_an_unrelated_edit()
    {
        var compilation = GeneratorHarness.CreateCompilation(Kernel + IlgpuPackage);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var edited = compilation.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class Unrelated { }"));
        var run = driver.RunGenerators(edited).GetRunResult().Results[0];
        var step = Assert.Single(run.TrackedSteps[AttentionKernelsGenerator.Steps.IlgpuReferenced]);
        Assert.All(step.Outputs, o => Assert.Equal(Microsoft.CodeAnalysis.IncrementalStepRunReason.Unchanged, o.Reason));
    }
}

using System.Runtime.InteropServices;
using Attention.Kernels.Benchmarks;
using Xunit;

namespace Attention.Kernels.Tests.Benchmarks;

/// <summary>The in-place ELF edit that lets TorchSharp's glue load on Debian 12 (benchmarks only).</summary>
public sealed class LibTorchSharpPatchTests
{
    // Restored with the solution (the benchmark project references TorchSharp 0.107.0); the test only reads it.
    private static string Glue => Path.Combine(
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [SkippableFact]
    public void The_glue_loses_its_GLIBCXX_3_4_32_requirement_in_four_bytes_and_a_second_patch_changes_nothing()
    {
        Skip.IfNot(File.Exists(Glue), $"{Glue} is not restored (restore benchmarks/Attention.Kernels.Benchmarks)");
        byte[] original = File.ReadAllBytes(Glue);
        byte[] patched = (byte[])original.Clone();

        var (outcome, symbols) = LibTorchSharpPatch.Apply(patched);

        Assert.Equal(LibTorchSharpPatch.Outcome.Patched, outcome);
        Assert.Equal(["_ZSt21ios_base_library_initv"], symbols);
        int changed = original.Zip(patched).Count(p => p.First != p.Second);
        Assert.InRange(changed, 2, 4); // the requirement's flags, the symbol's version index and binding
        Assert.Equal(LibTorchSharpPatch.Outcome.AlreadyWeak, LibTorchSharpPatch.Apply(patched).Outcome);
    }

    [SkippableFact]
    public void A_version_whose_symbols_are_relocated_is_refused_and_left_untouched()
    {
        // The runtime's own libcoreclr.so calls glibc's functions (relocations against GLIBC_2.2.5 symbols).
        string coreclr = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so");
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64 && File.Exists(coreclr), "x64 Linux only");
        byte[] original = File.ReadAllBytes(coreclr);
        byte[] copy = (byte[])original.Clone();

        var error = Assert.Throws<InvalidDataException>(() => LibTorchSharpPatch.Apply(copy, "GLIBC_2.2.5"));

        Assert.Contains("relocation", error.Message, StringComparison.Ordinal);
        Assert.Equal(original, copy);
        Assert.Equal(LibTorchSharpPatch.Outcome.NotRequired, LibTorchSharpPatch.Apply(copy, "GLIBCXX_99.0").Outcome);
    }

    [Fact]
    public void Not_an_elf_file_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => LibTorchSharpPatch.Apply(new byte[128]));
        Assert.Throws<InvalidDataException>(() => LibTorchSharpPatch.Apply("MZ"u8.ToArray()));
    }
}

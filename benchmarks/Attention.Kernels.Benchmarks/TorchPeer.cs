using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Attention.Kernels.Benchmarks;

/// <summary>The Python peer (torch 1.13 with Debian's OpenBLAS): benchmarks/peers/torch_peer.py kept running, one JSON request per line; <c>compare</c> takes its sgemm and bandwidth ceilings and its pinned BLAS core.</summary>
public sealed class TorchPeer : IDisposable
{
    /// <summary>Debian's OpenMP OpenBLAS; without it torch falls back to reference BLAS (10–35× slower, not a fair peer).</summary>
    public const string OpenBlasDirectory = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

    private readonly Process _process;

    private TorchPeer(Process process) => _process = process;

    /// <param name="repoRoot">The repository (for benchmarks/peers/torch_peer.py).</param>
    /// <param name="threads">Threads for torch and OpenBLAS.</param>
    /// <param name="python">The Python with torch.</param>
    /// <param name="coreType">OPENBLAS_CORETYPE for the peer (null: leave OpenBLAS to detect the CPU); see <see cref="BenchmarkTrust.ChooseCoreType"/>.</param>
    public static TorchPeer Start(string repoRoot, int threads, string python, string? coreType)
    {
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(repoRoot, "benchmarks", "peers", "torch_peer.py"));
        info.ArgumentList.Add(threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Directory.Exists(OpenBlasDirectory))
            info.Environment["LD_LIBRARY_PATH"] = OpenBlasDirectory;
        else
            Console.Error.WriteLine($"warning: {OpenBlasDirectory} missing (apt-get install libopenblas0-openmp); torch will use a slow BLAS.");
        if (coreType is not null)
            info.Environment[BenchmarkTrust.CoreTypeVariable] = coreType;
        info.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new TorchPeer(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {python}."));
    }

    public JsonObject Request(object request)
    {
        _process.StandardInput.WriteLine(JsonSerializer.Serialize(request));
        _process.StandardInput.Flush();
        string line = _process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException("The PyTorch peer exited (see its stderr above).");
        return JsonNode.Parse(line)!.AsObject();
    }

    public JsonObject Hello() => Request(new { op = "hello" });

    public JsonObject Ceilings() => Request(new { op = "ceilings" });

    public void Dispose()
    {
        try
        {
            _process.StandardInput.WriteLine("{\"op\": \"quit\"}");
            _process.StandardInput.Flush();
            if (!_process.WaitForExit(5000))
                _process.Kill();
        }
        catch (IOException)
        {
            // already gone
        }
        _process.Dispose();
    }
}

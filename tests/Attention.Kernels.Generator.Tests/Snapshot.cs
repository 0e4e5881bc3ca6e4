using System.Text;
using Xunit.Sdk;

namespace Attention.Kernels.Generator.Tests;

/// <summary>
/// Our own snapshot assertion (Verify is not in the package registry we build from). The expected text lives in
/// <c>Snapshots/NAME.verified.cs</c> beside the tests. On a mismatch, the actual text is written to
/// <c>NAME.received.cs</c> and the test fails with the first differing lines. Set AK_ACCEPT_SNAPSHOTS=1 to
/// accept: the received text then replaces the verified file.
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "AK_ACCEPT_SNAPSHOTS";

    public static void Verify(string actual, string name) =>
        VerifyIn(BuildMetadata.Get("SnapshotDirectory"), actual, name,
            accept: Environment.GetEnvironmentVariable(AcceptVariable) == "1");

    /// <summary>Compares with <c>directory/NAME.verified.cs</c>; with <paramref name="accept"/> a mismatch overwrites it.</summary>
    public static void VerifyIn(string directory, string actual, string name, bool accept)
    {
        string verifiedPath = Path.Combine(directory, name + ".verified.cs");
        string receivedPath = Path.Combine(directory, name + ".received.cs");
        actual = actual.Replace("\r\n", "\n");

        string? expected = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        if (accept)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }
        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, actual);
        throw new XunitException(expected is null
            ? $"No verified snapshot '{verifiedPath}'. Wrote '{receivedPath}'; review it and rerun with {AcceptVariable}=1 to accept."
            : $"Snapshot '{name}' differs. Wrote '{receivedPath}'; rerun with {AcceptVariable}=1 to accept.\n{Diff(expected, actual)}");
    }

    /// <summary>A short line diff: the first few differing lines with their numbers.</summary>
    public static string Diff(string expected, string actual)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        var text = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < Math.Max(a.Length, b.Length) && shown < 8; i++)
        {
            string? left = i < a.Length ? a[i] : null, right = i < b.Length ? b[i] : null;
            if (left == right)
                continue;
            text.Append($"line {i + 1}:\n  - {left ?? "<end of file>"}\n  + {right ?? "<end of file>"}\n");
            shown++;
        }
        return text.ToString();
    }
}

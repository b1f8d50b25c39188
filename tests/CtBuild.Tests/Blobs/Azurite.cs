using System.Diagnostics;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using CtBuild.Blobs;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Blobs;

/// <summary>
/// Microsoft's Blob Storage emulator (npm <c>azurite</c>, installed by <c>.ci/install-azurite</c> into
/// <c>.ci/.tools/</c>) on a free loopback port with its data in a temp folder; one per test class, each
/// test in its own container.
/// </summary>
public sealed partial class Azurite : IDisposable
{
    /// <summary>Azurite's well-known development account and key (public, in Microsoft's docs).</summary>
    public const string Account = "devstoreaccount1";
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    readonly Process _process;
    readonly string _data = Directory.CreateTempSubdirectory("ctb-azurite-").FullName;

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}/{Account}";
    public string ConnectionString => ConnectionStringWith(Key);
    public BlobCredentials Credentials => new(ConnectionString, null);
    public BlobServiceClient Service => new(ConnectionString);

    public string ConnectionStringWith(string key) =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={key};BlobEndpoint={Endpoint};";

    /// <summary>The azurite-blob executable, or null when it is not installed (then the tests say how to install it).</summary>
    public static string? Executable
    {
        get
        {
            if (Environment.GetEnvironmentVariable("CTB_AZURITE") is { Length: > 0 } path && File.Exists(path)) return path;
            var local = Path.Combine(TempWorkspace.RepoRoot, ".ci", ".tools", "node_modules", ".bin", "azurite-blob");
            return File.Exists(local) ? local : null;
        }
    }

    public const string Missing = "Azurite is not installed: run .ci/install-azurite (npm) or set CTB_AZURITE to azurite-blob.";

    public Azurite()
    {
        var exe = Executable ?? throw new InvalidOperationException(Missing);
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            ArgumentList = { "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", _data, "--skipApiVersionCheck", "--silent" },
        };
        _process = Process.Start(psi)!;
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m) started.TrySetResult(int.Parse(m.Groups[1].Value));
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!started.Task.Wait(TimeSpan.FromSeconds(60)))
        {
            Dispose();
            throw new InvalidOperationException($"Azurite did not start in 60 s:\n{output}");
        }
        Port = started.Task.Result;
    }

    /// <summary>A new empty container with a unique name.</summary>
    public string NewContainer()
    {
        var name = "c" + Guid.NewGuid().ToString("N")[..20];
        Service.GetBlobContainerClient(name).Create();
        return name;
    }

    /// <summary>Every blob name in <paramref name="container"/>, sorted.</summary>
    public List<string> BlobNames(string container) =>
        Service.GetBlobContainerClient(container).GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, null, default)
            .Select(b => b.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>The environment a ctb child process needs to reach this Azurite.</summary>
    public Dictionary<string, string> Env(string? connectionString = null) =>
        new() { [BlobCredentials.ConnectionStringVariable] = connectionString ?? ConnectionString };

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex(@"successfully listens on http://127\.0\.0\.1:(\d+)")] private static partial Regex Listening();
}

/// <summary>
/// A test that needs Azurite. Skipped with the install hint when it is absent on a developer's machine; in
/// CI (<c>CI</c> set) it runs and fails instead, since <c>.ci/run</c> installs Azurite.
/// </summary>
public sealed class AzuriteFactAttribute : FactAttribute
{
    public AzuriteFactAttribute()
    {
        if (Azurite.Executable is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))) Skip = Azurite.Missing;
    }
}

using System.IO.Compression;
using CtBuild.Configuration;
using CtBuild.Pipeline;

namespace CtBuild.Tests.Support;

/// <summary>
/// A workspace in a fresh temp folder: a config, a features SQL file and raw files. Deleted on dispose.
/// Every test gets its own, so tests run in parallel safely.
/// </summary>
public sealed class TempWorkspace : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("ctb-test-").FullName;
    public MemoryLog Log { get; } = new();

    public string RawDir => Path.Combine(Root, "data", "raw");

    public static string SharedDatasets => SharedFolder("datasets");

    /// <summary>
    /// A folder of the project's shared/ (datasets, delta-golden): beside the repository or one of its
    /// parents (CI lays a copy beside the clone), else CTB_SHARED, else /work/shared.
    /// </summary>
    public static string SharedFolder(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        foreach (var root in new[] { Environment.GetEnvironmentVariable("CTB_SHARED"), "/work/shared" })
            if (root is not null && Directory.Exists(Path.Combine(root, name))) return Path.Combine(root, name);
        throw new DirectoryNotFoundException($"shared/{name} was not found beside the repository, in CTB_SHARED or in /work/shared.");
    }

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CtBuild.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("CtBuild.sln not found above the test binaries.");
        }
    }

    public TempWorkspace WithConfig(string json)
    {
        File.WriteAllText(Path.Combine(Root, "ctbuild.json"), json);
        return this;
    }

    public TempWorkspace WithFeaturesSql(string sql)
    {
        Directory.CreateDirectory(Path.Combine(Root, "features"));
        File.WriteAllText(Path.Combine(Root, "features", "features.sql"), sql);
        return this;
    }

    public string WriteRaw(string name, string content)
    {
        var path = Path.Combine(RawDir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (name.EndsWith(".gz"))
        {
            using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
            gz.Write(System.Text.Encoding.UTF8.GetBytes(content));
        }
        else File.WriteAllText(path, content);
        return path;
    }

    public string WriteRawBytes(string name, byte[] content)
    {
        var path = Path.Combine(RawDir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public Workspace Load(string? env = null) => Workspace.Load(Path.Combine(Root, "ctbuild.json"), env);

    public StageContext Context(RunOptions? options = null) => new(Load(), Log, options ?? new RunOptions());

    public StageResult Run(Stage stage, RunOptions? options = null) => StageRunner.Run(stage, Context(options));

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

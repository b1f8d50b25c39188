using CtBuild.Ingest;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest;

public sealed class CapturesTests : IDisposable
{
    readonly TempWorkspace _tmp = new();

    public void Dispose() => _tmp.Dispose();

    RawFile Stamped(string name, string content)
    {
        var path = _tmp.WriteRaw(name, content);
        var info = new FileInfo(path);
        return new RawFile(name, path, RawFormat.Csv, info.Length, Hashing.Sha256File(path), info.LastWriteTimeUtc.Ticks);
    }

    [Fact]
    public void The_original_bytes_are_kept_under_their_hash()
    {
        var file = Stamped("a.csv", "id\n1\n");
        var captures = new Captures(Path.Combine(_tmp.Root, "lake"));

        var path = captures.Capture(file);

        Assert.Equal(Path.Combine(_tmp.Root, "lake", "_captures", file.Sha256[..2], file.Sha256 + ".csv"), path);
        Assert.Equal("id\n1\n", File.ReadAllText(path));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public void A_file_changed_after_it_was_hashed_is_refused_and_nothing_is_captured()
    {
        var file = Stamped("a.csv", "id\n1\n");
        File.AppendAllText(file.FullPath, "2\n"); // still being written when ingest runs
        var captures = new Captures(Path.Combine(_tmp.Root, "lake"));

        var ex = Assert.Throws<CtBuildException>(() => captures.Capture(file));

        Assert.Contains("a.csv changed while it was being captured", ex.Message);
        Assert.False(File.Exists(captures.PathOf(file)));
        Assert.Empty(Directory.EnumerateFiles(captures.Folder, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Same_size_rewrite_is_caught_by_its_modification_time()
    {
        var file = Stamped("a.csv", "id\n1\n");
        File.WriteAllText(file.FullPath, "id\n9\n");
        File.SetLastWriteTimeUtc(file.FullPath, new DateTime(file.MtimeTicks, DateTimeKind.Utc).AddSeconds(1));
        var ex = Assert.Throws<CtBuildException>(() => new Captures(Path.Combine(_tmp.Root, "lake")).Capture(file));
        Assert.Contains("changed while it was being captured", ex.Message);
    }
}

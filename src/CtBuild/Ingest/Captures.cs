namespace CtBuild.Ingest;

/// <summary>
/// The original bytes of every raw file, kept as delivered and addressed by content hash
/// (<c>&lt;lake&gt;/_captures/ab/abcdef….csv</c>), so any row can be traced back to the exact bytes it came from.
/// The folder starts with '_' so Spark and Delta readers ignore it.
/// </summary>
public sealed class Captures(string lakeDir)
{
    public string Folder { get; } = Path.Combine(lakeDir, "_captures");

    public string PathOf(RawFile file) => Path.Combine(Folder, file.Sha256[..2], file.Sha256 + Extension(file.Format));

    /// <summary>
    /// Copies the file in unless that content is already captured. Copy, then rename: never a half capture.
    /// The copy is the kernel's (no pass through this process); it is the content that was hashed when the
    /// file still has the size and modification time it was hashed at, the same test the incremental
    /// fingerprints (and git, and DVC) rely on.
    /// </summary>
    public string Capture(RawFile file)
    {
        var target = PathOf(file);
        if (File.Exists(target) && new FileInfo(target).Length == file.Size) return target;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + $".{Environment.ProcessId}.tmp";
        try
        {
            // No fsync, like the lake's data files: a killed process loses nothing the page cache holds,
            // and the commit that makes this capture matter is fsynced (see README "Guarantees").
            File.Copy(file.FullPath, temp, overwrite: true);
        }
        catch (IOException ex)
        {
            // A full disk must not leave a partial copy behind, and the error must say where it happened.
            if (File.Exists(temp)) File.Delete(temp);
            throw new CtBuildException($"Could not capture {file.Name} into {Path.GetDirectoryName(target)}: {ex.Message}. " +
                "Nothing was ingested; free disk space or fix permissions there, then run ingest again.", 1, ex);
        }
        try { EnsureUnchanged(file); }
        catch (CtBuildException) { File.Delete(temp); throw; }
        if (new FileInfo(temp).Length != file.Size)
        {
            File.Delete(temp);
            throw Changed(file, new FileInfo(temp).Length);
        }
        File.Move(temp, target, overwrite: true);
        return target;
    }

    /// <summary>
    /// Stops the ingest unless the delivered file still has the size and modification time it was hashed at: then what
    /// was read from it (the capture, a numbered copy made from the delivered file itself) is the content that was hashed.
    /// </summary>
    public static void EnsureUnchanged(RawFile file)
    {
        var now = new FileInfo(file.FullPath);
        if (!new CtBuild.Pipeline.FileHashCache.Entry(file.Size, file.MtimeTicks, file.Sha256).StillDescribes(now))
            throw Changed(file, now.Exists ? now.Length : 0);
    }

    static CtBuildException Changed(RawFile file, long size) =>
        new($"{file.Name} changed while it was being captured (hashed at {file.Size} bytes, now {size}). " +
            "Wait until the file is fully written, then run ingest again.");

    static string Extension(RawFormat format) => format switch
    {
        RawFormat.Csv => ".csv",
        RawFormat.CsvGzip => ".csv.gz",
        RawFormat.Parquet => ".parquet",
        _ => ".jsonl",
    };
}

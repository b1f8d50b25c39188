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

    /// <summary>Copies the file in unless that content is already captured. Copy, then rename: never a half capture.</summary>
    public string Capture(RawFile file)
    {
        var target = PathOf(file);
        if (File.Exists(target) && new FileInfo(target).Length == file.Size) return target;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + $".{Environment.ProcessId}.tmp";
        // Copy and hash in one pass: the copy is checked against the hash the file was fingerprinted with.
        string copied;
        try
        {
            using (var source = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
            using (var destination = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    destination.Write(buffer, 0, read);
                }
                // No fsync, like the lake's data files: a killed process loses nothing the page cache holds,
                // and the commit that makes this capture matter is fsynced (see README "Guarantees").
                destination.Flush();
                copied = Convert.ToHexStringLower(sha.GetHashAndReset());
            }
        }
        catch (IOException ex)
        {
            // A full disk must not leave a partial copy behind, and the error must say where it happened.
            if (File.Exists(temp)) File.Delete(temp);
            throw new CtBuildException($"Could not capture {file.Name} into {Path.GetDirectoryName(target)}: {ex.Message}. " +
                "Nothing was ingested; free disk space or fix permissions there, then run ingest again.", 1, ex);
        }
        if (copied != file.Sha256)
        {
            File.Delete(temp);
            throw new CtBuildException($"{file.Name} changed while it was being captured (expected sha256 {file.Sha256[..12]}…, read {copied[..12]}…). Wait until the file is fully written, then run ingest again.");
        }
        File.Move(temp, target, overwrite: true);
        return target;
    }

    static string Extension(RawFormat format) => format switch
    {
        RawFormat.Csv => ".csv",
        RawFormat.CsvGzip => ".csv.gz",
        RawFormat.Parquet => ".parquet",
        _ => ".jsonl",
    };
}

using System.IO.Compression;

namespace CtBuild.Ingest;

/// <summary>The formats Ingest reads.</summary>
public enum RawFormat { Csv, CsvGzip, Parquet, JsonLines }

/// <summary>A file in the raw folder, with its content hash and the modification time it was hashed at.</summary>
public sealed record RawFile(string Name, string FullPath, RawFormat Format, long Size, string Sha256, long MtimeTicks)
{
    public static RawFormat? FormatOf(string name)
    {
        var n = name.ToLowerInvariant();
        if (n.EndsWith(".csv.gz")) return RawFormat.CsvGzip;
        if (n.EndsWith(".csv")) return RawFormat.Csv;
        if (n.EndsWith(".parquet")) return RawFormat.Parquet;
        if (n.EndsWith(".jsonl") || n.EndsWith(".ndjson")) return RawFormat.JsonLines;
        return null;
    }

    /// <summary>The files of the raw folder matching the patterns, by name (sub-folders included, names relative).</summary>
    public static IReadOnlyList<(string Name, string FullPath)> List(string rawDir, IReadOnlyList<string> patterns)
    {
        if (!Directory.Exists(rawDir)) return [];
        return patterns
            .SelectMany(p => Directory.EnumerateFiles(rawDir, p, SearchOption.AllDirectories))
            .Distinct(StringComparer.Ordinal)
            .Where(f => FormatOf(f) is not null && !Path.GetFileName(f).StartsWith('.'))
            .Select(f => (Name: Path.GetRelativePath(rawDir, f).Replace('\\', '/'), FullPath: f))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    public Stream OpenText() => Format == RawFormat.CsvGzip
        ? new GZipStream(File.OpenRead(FullPath), CompressionMode.Decompress)
        : File.OpenRead(FullPath);
}

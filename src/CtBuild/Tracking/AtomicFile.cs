using System.Security.Cryptography;

namespace CtBuild.Tracking;

/// <summary>
/// Writes files so that a reader sees either the old or the new content, never a half-written file:
/// write a temp file in the same folder, fsync it, then rename it over the target.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Replaces (or creates) <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = WriteTemp(path, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="bytes"/> only if it does not exist yet;
    /// false when another writer got there first. The rename without overwrite is atomic.
    /// </summary>
    public static bool TryCreate(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = WriteTemp(path, bytes);
        try
        {
            File.Move(temp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return false;
        }
    }

    /// <summary>Copies a file atomically and returns its size and lowercase hex sha256.</summary>
    public static (long Size, string Sha256) Copy(string source, string destination)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var temp = TempPathFor(destination);
        using (var input = File.OpenRead(source))
        using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[81920];
            int read;
            while ((read = input.Read(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                output.Write(buffer, 0, read);
            }
            output.Flush(flushToDisk: true);
            var size = output.Length;
            output.Close();
            File.Move(temp, destination, overwrite: true);
            return (size, Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
    }

    /// <summary>Lowercase hex sha256 of a file's content.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string WriteTemp(string path, ReadOnlySpan<byte> bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = TempPathFor(path);
        using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
        return temp;
    }

    // Same folder as the target so the rename never crosses a file system.
    private static string TempPathFor(string path) => $"{path}.{Guid.NewGuid():N}.tmp";
}

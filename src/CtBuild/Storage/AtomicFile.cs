using System.Text;
using System.Text.Json;

namespace CtBuild.Storage;

/// <summary>
/// Writes a file so that a reader sees either the old content or the new, never a part:
/// the bytes go to a temp file beside the target, are flushed to disk, then renamed over it.
/// </summary>
public static class AtomicFile
{
    // Named floating-point literals: a DeLong z or p can be NaN or ∞ (e.g. identical models), and must round-trip.
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = TempPathFor(path);
        try
        {
            WriteFlushed(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw CouldNotWrite(path, ex);
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="bytes"/> only if it does not exist yet; false when
    /// another writer got there first. The rename without overwrite is atomic, so the winner is whole.
    /// </summary>
    public static bool TryCreate(string path, ReadOnlySpan<byte> bytes)
    {
        var temp = TempPathFor(path);
        try
        {
            WriteFlushed(temp, bytes);
            MoveNoReplace(temp, path);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            TryDelete(temp);
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw CouldNotWrite(path, ex);
        }
    }

    /// <summary>Copies a file atomically, hashing it on the way, and returns its size and sha256 (lower-case hex).</summary>
    public static (long Size, string Sha256) Copy(string source, string destination)
    {
        var temp = TempPathFor(destination);
        try
        {
            long size;
            string sha256;
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                }
                output.Flush(flushToDisk: true);
                size = output.Length;
                sha256 = Convert.ToHexStringLower(sha.GetHashAndReset());
            }
            File.Move(temp, destination, overwrite: true);
            return (size, sha256);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw CouldNotWrite(destination, ex);
        }
    }

    // File.Move(overwrite: false) on Unix checks for the target and then renames: two writers racing can both "win"
    // (seen with 64 concurrent study claims). link(2) fails atomically with EEXIST instead; where the file system has no
    // hard links, fall back to File.Move.
    static void MoveNoReplace(string temp, string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            if (Link(temp, path) == 0)
            {
                File.Delete(temp);
                return;
            }
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 17) // EEXIST
                throw new IOException($"{path} already exists.");
        }
        File.Move(temp, path, overwrite: false);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    static extern int Link(string existing, string created);

    static void WriteFlushed(string temp, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    // Beside the target, so the rename never crosses a file system; hidden, so listings skip it.
    static string TempPathFor(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }

    static CtBuildException CouldNotWrite(string path, Exception ex) =>
        new($"Could not write {path}: {ex.Message}. Check free disk space and permissions; the previous content is unchanged.", 1, ex);

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    public static void WriteJson<T>(string path, T value) => WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, Json));

    public static T? ReadJson<T>(string path) where T : class =>
        File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json) : null;

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

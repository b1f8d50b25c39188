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
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CtBuildException($"Could not write {path}: {ex.Message}. Check free disk space and permissions; the previous content is unchanged.", 1, ex);
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    public static void WriteJson<T>(string path, T value) => WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, Json));

    public static T? ReadJson<T>(string path) where T : class =>
        File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json) : null;

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

using CtBuild.Storage;

namespace CtBuild.Pipeline;

/// <summary>
/// Content hashes of input files, re-read only when a file's size or modification time changed
/// (as DVC does), so a no-op check over gigabytes of raw data takes milliseconds.
/// </summary>
public sealed class FileHashCache
{
    public sealed record Entry(long Size, long MtimeTicks, string Sha256)
    {
        /// <summary>Whether the file still has the size and modification time it was hashed at (then the hash holds).</summary>
        public bool StillDescribes(FileInfo file) => Size == file.Length && MtimeTicks == file.LastWriteTimeUtc.Ticks;
    }

    readonly string _path;
    readonly Dictionary<string, Entry> _entries;
    bool _dirty;

    FileHashCache(string path, Dictionary<string, Entry> entries) => (_path, _entries) = (path, entries);

    public static FileHashCache Open(string stateDir)
    {
        var path = Path.Combine(stateDir, "file-hashes.json");
        Dictionary<string, Entry>? entries = null;
        try { entries = AtomicFile.ReadJson<Dictionary<string, Entry>>(path); }
        catch (System.Text.Json.JsonException) { /* a damaged cache is only a cache: rehash */ }
        return new FileHashCache(path, entries ?? new Dictionary<string, Entry>(StringComparer.Ordinal));
    }

    public string Hash(string file) => Stamp(file).Sha256;

    /// <summary>The file's hash with the size and modification time it was hashed at.</summary>
    public Entry Stamp(string file)
    {
        var info = new FileInfo(file);
        var key = info.FullName;
        lock (_entries)
        {
            if (_entries.TryGetValue(key, out var e) && e.StillDescribes(info))
                return e;
        }
        var entry = new Entry(info.Length, info.LastWriteTimeUtc.Ticks, Hashing.Sha256File(file));
        lock (_entries)
        {
            _entries[key] = entry;
            _dirty = true;
        }
        return entry;
    }

    public void Save()
    {
        lock (_entries)
        {
            if (!_dirty) return;
            AtomicFile.WriteJson(_path, _entries);
            _dirty = false;
        }
    }
}

using CtBuild.Storage;
using CtBuild.Tracking;

namespace CtBuild.Registry;

/// <summary>.pending.json: who is changing a model, and what the touched files held before.</summary>
/// <param name="Commit">Whether the change is to end in a git commit.</param>
internal sealed record PendingIntent(string Id, ProcessOwner Owner, DateTimeOffset Created, bool Commit, IReadOnlyList<PriorContent> Files);

/// <summary>A file's content before the change, base64; null when the file did not exist.</summary>
internal sealed record PriorContent(string Path, string? Base64);

/// <summary>
/// One registry change to one model, applied as a unit. Creating models/&lt;name&gt;/.pending.json
/// (create-if-absent) locks the model across processes; before any file is written the intent
/// records each touched file's previous content. On failure, or on the next open after a crash, the
/// files return to that content unless git's HEAD already holds the new files, so no registry file
/// is left without its commit and no commit without its files.
/// </summary>
internal sealed class RegistryTransaction : IDisposable
{
    private readonly string _root;
    private readonly string _pendingPath;
    private readonly PendingIntent _lock;
    private readonly List<(string Path, byte[]? Bytes, string? Source, string? Sha256)> _writes = [];
    private bool _finished;

    private RegistryTransaction(string root, string pendingPath, PendingIntent intent)
    {
        _root = root;
        _pendingPath = pendingPath;
        _lock = intent;
    }

    /// <summary>Locks model <paramref name="name"/> for a change; recovers a change its owner abandoned.</summary>
    public static RegistryTransaction Begin(string root, string name)
    {
        var relative = RegistryFiles.Pending(name);
        var path = RegistryFiles.Full(root, relative);
        var intent = new PendingIntent(Guid.NewGuid().ToString("N"), ProcessOwner.Current, DateTimeOffset.UtcNow, false, []);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (AtomicFile.TryCreate(path, RegistryFiles.Serialize(intent))) return new RegistryTransaction(root, path, intent);
            var other = RegistryFiles.Read<PendingIntent>(root, relative);
            if (!other.Owner.IsGone())
                throw new RegistryException(
                    $"Another registry change to model '{name}' is in progress ({other.Owner}, started {other.Created:u}). " +
                    $"Wait for it to finish; if that process is gone for good, delete {path} and run again.");
            Recover(root, name);
        }
        throw new RegistryException($"Could not lock model '{name}': {path} keeps reappearing. Another process is changing it; try again.");
    }

    /// <summary>Plans writing <paramref name="bytes"/> to <paramref name="path"/> (relative to the workspace).</summary>
    public void Write(string path, byte[] bytes) => _writes.Add((path, bytes, null, null));

    /// <summary>Plans copying <paramref name="source"/> to <paramref name="path"/>, which must then hash to <paramref name="sha256"/>.</summary>
    public void Copy(string path, string source, string sha256) => _writes.Add((path, null, source, sha256));

    /// <summary>The files this change writes.</summary>
    public IReadOnlyList<string> Paths => _writes.Select(w => w.Path).Distinct().ToList();

    /// <summary>Writes the planned files, then commits them when <paramref name="committer"/> is given; all or nothing.</summary>
    public CommitResult? Apply(RegistryCommitter? committer, string message)
    {
        var prior = Paths.Select(p =>
        {
            var full = RegistryFiles.Full(_root, p);
            return new PriorContent(p, File.Exists(full) ? Convert.ToBase64String(File.ReadAllBytes(full)) : null);
        }).ToList();
        AtomicFile.WriteAllBytes(_pendingPath, RegistryFiles.Serialize(_lock with { Commit = committer is not null, Files = prior }));
        try
        {
            foreach (var (path, bytes, source, sha256) in _writes)
            {
                var full = RegistryFiles.Full(_root, path);
                if (bytes is not null)
                {
                    AtomicFile.WriteAllBytes(full, bytes);
                    continue;
                }
                var copied = AtomicFile.Copy(source!, full);
                if (copied.Sha256 != sha256)
                    throw new RegistryException($"{source} changed while it was being registered (sha256 {sha256} became {copied.Sha256}). Run again.");
            }
            CtBuild.Pipeline.FaultInjection.Point("registry.after-files", Path.GetDirectoryName(_pendingPath));
            var result = committer?.Commit(Paths, message);
            CtBuild.Pipeline.FaultInjection.Point("registry.after-commit", Path.GetDirectoryName(_pendingPath));
            Finish();
            return result;
        }
        catch
        {
            committer?.Unstage(Paths);
            Restore(_root, prior);
            Finish();
            throw;
        }
    }

    /// <summary>Releases the lock; a change never applied wrote nothing.</summary>
    public void Dispose()
    {
        if (!_finished) Finish();
    }

    /// <summary>
    /// Completes or undoes an abandoned change to model <paramref name="name"/>: kept when it was meant to be
    /// committed and git's HEAD holds exactly the files, otherwise restored to the recorded content.
    /// </summary>
    public static void Recover(string root, string name)
    {
        var path = RegistryFiles.Full(root, RegistryFiles.Pending(name));
        if (!File.Exists(path)) return;
        var intent = RegistryFiles.Read<PendingIntent>(root, RegistryFiles.Pending(name));
        var paths = intent.Files.Select(f => f.Path).ToList();
        var committer = new RegistryCommitter(root);
        var committed = intent.Commit && paths.Count > 0 && committer.IsRepository && committer.MatchesHead(paths);
        if (!committed && paths.Count > 0)
        {
            committer.Unstage(paths);
            Restore(root, intent.Files);
        }
        DeletePending(path);
    }

    private void Finish()
    {
        _finished = true;
        DeletePending(_pendingPath);
    }

    // A model folder that only held the intent (a first registration that failed) goes with it.
    private static void DeletePending(string path)
    {
        File.Delete(path);
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }

    private static void Restore(string root, IReadOnlyList<PriorContent> files)
    {
        foreach (var file in files)
        {
            var full = RegistryFiles.Full(root, file.Path);
            if (file.Base64 is not null) AtomicFile.WriteAllBytes(full, Convert.FromBase64String(file.Base64));
            else if (File.Exists(full)) File.Delete(full);
        }
        // Folders a new version created (versions/vN/) go too, so the tree looks untouched.
        foreach (var file in files.Where(f => f.Base64 is null))
        {
            var folder = Path.GetDirectoryName(RegistryFiles.Full(root, file.Path));
            while (folder is not null && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()
                   && Path.GetFileName(folder) != "models")
            {
                Directory.Delete(folder);
                folder = Path.GetDirectoryName(folder);
            }
        }
    }
}

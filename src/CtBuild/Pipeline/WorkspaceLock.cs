using System.Diagnostics;
using System.Text.Json;

namespace CtBuild.Pipeline;

/// <summary>Who holds the workspace lock.</summary>
public sealed record LockHolder(int ProcessId, string Host, DateTimeOffset StartedAt, string Command, long ProcessStartTicks);

/// <summary>
/// One writer per workspace: a lock file created exclusively, naming its holder. A second pipeline waits
/// up to a configured time or fails naming the holder; a lock left by a process that died is taken over.
/// </summary>
public sealed class WorkspaceLock : IDisposable
{
    readonly string _path;
    readonly string _owned;

    WorkspaceLock(string path, string owned) => (_path, _owned) = (path, owned);

    public static string PathFor(string stateDir) => Path.Combine(stateDir, "workspace.lock");

    public static WorkspaceLock Acquire(string stateDir, string command, TimeSpan wait, IPipelineLog log)
    {
        Directory.CreateDirectory(stateDir);
        var path = PathFor(stateDir);
        var me = Self(command);
        var content = JsonSerializer.Serialize(me);
        var deadline = Stopwatch.StartNew();
        var announced = false;
        while (true)
        {
            try
            {
                using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(content);
                    f.Write(bytes);
                    f.Flush(true);
                }
                return new WorkspaceLock(path, content);
            }
            catch (IOException) when (File.Exists(path))
            {
                var holder = ReadHolder(path);
                // Between its creation and its content a lock file is empty for a moment: only an old unreadable one is stale.
                if (holder is null && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < TimeSpan.FromSeconds(5))
                {
                    Thread.Sleep(50);
                    continue;
                }
                if (holder is null || IsStale(holder))
                {
                    TakeOverStale(path, holder, log);
                    continue;
                }
                if (deadline.Elapsed >= wait)
                    throw new CtBuildException(
                        $"The workspace is locked by {Describe(holder)} (lock file {path}). " +
                        (wait == TimeSpan.Zero ? "Wait for that run to finish, " : $"Waited {wait.TotalSeconds:0}s; wait longer with lock.wait in the config, ") +
                        "or if that process is gone from another host, delete the lock file.");
                if (!announced) { log.Info($"waiting for the workspace lock held by {Describe(holder)}"); announced = true; }
                Thread.Sleep(200);
            }
        }
    }

    public static LockHolder? ReadHolder(string path)
    {
        try { return JsonSerializer.Deserialize<LockHolder>(File.ReadAllText(path)); }
        catch (Exception ex) when (ex is IOException or JsonException) { return null; }
    }

    static string Describe(LockHolder h) => $"process {h.ProcessId} on {h.Host} since {h.StartedAt:u} ({h.Command})";

    /// <summary>A lock is stale when its holder ran on this host and that process no longer exists
    /// (or its pid was reused by a process that started later). Locks from other hosts are never guessed stale.</summary>
    static bool IsStale(LockHolder h)
    {
        if (!string.Equals(h.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            using var p = Process.GetProcessById(h.ProcessId);
            // Another process computes a start time from /proc with rounding of its own: allow for it.
            return p.HasExited || Math.Abs(p.StartTime.ToUniversalTime().Ticks - h.ProcessStartTicks) > 2 * TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException) { return true; }
        catch (InvalidOperationException) { return true; }
    }

    static void TakeOverStale(string path, LockHolder? holder, IPipelineLog log)
    {
        // Rename, not delete: of two processes taking over at once only one rename succeeds,
        // and neither can delete a fresh lock the other has just created.
        var aside = $"{path}.stale.{Guid.NewGuid():N}";
        try
        {
            File.Move(path, aside);
            var still = ReadHolder(aside);
            if (holder is not null && still is not null && still != holder)
            {
                File.Move(aside, path); // it changed hands meanwhile: put it back
                return;
            }
            File.Delete(aside);
            log.Warning($"took over a stale workspace lock left by {(holder is null ? "an unreadable lock file" : Describe(holder))}");
        }
        catch (IOException) { /* someone else moved it first; retry */ }
    }

    static LockHolder Self(string command)
    {
        using var p = Process.GetCurrentProcess();
        return new LockHolder(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, command, p.StartTime.ToUniversalTime().Ticks);
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(_path) && File.ReadAllText(_path) == _owned) File.Delete(_path);
        }
        catch (IOException) { }
    }
}

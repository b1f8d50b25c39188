using System.Diagnostics;

namespace CtBuild.Tracking;

/// <summary>
/// The process that owns a piece of unfinished work (a running run, a pending promotion).
/// The start time tells a live owner from a later process that reused its id.
/// </summary>
public sealed record ProcessOwner(int ProcessId, string Host, DateTimeOffset ProcessStart)
{
    /// <summary>This process.</summary>
    public static ProcessOwner Current { get; } = CreateCurrent();

    /// <summary>
    /// True when the owner certainly ended: same host and no process with that id and start time.
    /// An owner on another host cannot be checked from here, so it counts as alive.
    /// </summary>
    public bool IsGone()
    {
        if (!string.Equals(Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            using var process = Process.GetProcessById(ProcessId);
            if (process.HasExited) return true;
            var started = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
            return (started - ProcessStart).Duration() > TimeSpan.FromSeconds(2);
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        catch (InvalidOperationException)
        {
            return true; // exited while we looked
        }
    }

    /// <summary>"process 123 on host"</summary>
    public override string ToString() => $"process {ProcessId} on {Host}";

    private static ProcessOwner CreateCurrent()
    {
        using var self = Process.GetCurrentProcess();
        var start = new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero);
        return new ProcessOwner(Environment.ProcessId, Environment.MachineName, start);
    }
}

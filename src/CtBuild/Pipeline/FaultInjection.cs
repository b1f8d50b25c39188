using System.Diagnostics;

namespace CtBuild.Pipeline;

/// <summary>
/// Named points in the write paths where the crash-safety tests make the process fail: when the
/// environment variable <c>CTB_FAULT_POINT</c> equals a point's name, the process kills itself there
/// (SIGKILL, as <c>kill -9</c>: no finally blocks, no flush), or — with <c>CTB_FAULT_ACTION=enospc</c> or
/// <c>eacces</c> — throws the error a full disk or a refused permission would give, or with <c>pause</c>
/// stops there until the file named by <c>CTB_FAULT_RESUME</c> exists (forever when unset), so a test can
/// line up two processes exactly. Unset, a point does nothing.
/// </summary>
public static class FaultInjection
{
    /// <summary>The environment variable naming the point to fail at.</summary>
    public const string PointVariable = "CTB_FAULT_POINT";

    /// <summary>The environment variable choosing what happens there: <c>kill</c> (default), <c>enospc</c>, <c>eacces</c> or <c>pause</c>.</summary>
    public const string ActionVariable = "CTB_FAULT_ACTION";

    /// <summary>With the <c>pause</c> action: the file whose creation lets the process go on.</summary>
    public const string ResumeVariable = "CTB_FAULT_RESUME";

    /// <summary>Fails here when <c>CTB_FAULT_POINT</c> is <paramref name="name"/>; <paramref name="path"/> is the file being written, for the error.</summary>
    public static void Point(string name, string? path = null)
    {
        // Read each time (not cached) so a point costs one lookup and a test child needs no other setup.
        if (Environment.GetEnvironmentVariable(PointVariable) != name) return;
        var target = path ?? name;
        switch (Environment.GetEnvironmentVariable(ActionVariable))
        {
            case "enospc":
                throw new IOException($"No space left on device : '{target}'", 28);
            case "eacces":
                throw new UnauthorizedAccessException($"Access to the path '{target}' is denied.");
            case "pause":
                Console.Error.WriteLine($"fault point {name} reached; pausing");
                var resume = Environment.GetEnvironmentVariable(ResumeVariable);
                while (resume is null || !File.Exists(resume)) Thread.Sleep(50);
                break;
            default:
                using (var self = Process.GetCurrentProcess()) self.Kill();
                Thread.Sleep(Timeout.Infinite); // Kill() returns before the signal lands; never run past the point
                break;
        }
    }
}

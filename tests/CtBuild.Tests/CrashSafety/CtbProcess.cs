using System.Diagnostics;
using System.Text;

namespace CtBuild.Tests.CrashSafety;

/// <summary>What a finished <c>ctb</c> child process did.</summary>
public sealed record CtbResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>128 + SIGKILL: the child died by <c>kill -9</c> (its own fault point or the test's).</summary>
    public bool Killed => ExitCode == 137;

    public string Output => StdOut + StdErr;
}

/// <summary>
/// A real <c>ctb</c> process (<c>dotnet ctb.dll</c>, copied next to the test assembly by the project
/// reference), so a kill is a real <c>kill -9</c> of a separate process, not an exception in the test.
/// </summary>
public sealed class CtbProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _stdout = new();
    readonly StringBuilder _stderr = new();

    CtbProcess(Process process) => _process = process;

    public static string CtbDll => Path.Combine(AppContext.BaseDirectory, "ctb.dll");

    public int Id => _process.Id;

    /// <summary>Starts <c>ctb args</c> in <paramref name="workingDir"/> with extra environment variables.</summary>
    public static CtbProcess Start(string workingDir, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null, string? user = null)
    {
        // runuser drops root, so a permission test can be refused where root never would be.
        var psi = user is null ? new ProcessStartInfo("dotnet") : new ProcessStartInfo("runuser");
        if (user is not null) foreach (var a in new[] { "-u", user, "--", "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(CtbDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.WorkingDirectory = workingDir;
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["CI"] = "1"; // plain progress lines
        psi.Environment.Remove("GITHUB_ACTIONS");
        psi.Environment.Remove("GITHUB_STEP_SUMMARY");
        psi.Environment.Remove("GITHUB_OUTPUT");
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi };
        var child = new CtbProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (child._stdout) child._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (child._stderr) child._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs <c>ctb args</c> to the end (or a kill at a fault point).</summary>
    public static CtbResult Run(string workingDir, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null, string? user = null)
    {
        using var child = Start(workingDir, args, env, user);
        return child.WaitForExit(TimeSpan.FromSeconds(120));
    }

    /// <summary>Text written so far to stderr (logs) and stdout.</summary>
    public string OutputSoFar
    {
        get
        {
            lock (_stdout) lock (_stderr) return _stdout.ToString() + _stderr.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits until <paramref name="text"/> appears in the output; false when the process ended or time ran out first.</summary>
    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (OutputSoFar.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited) return OutputSoFar.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(25);
        }
        return false;
    }

    /// <summary><c>kill -9</c> of this process only (not its children: a git it started finishes on its own).</summary>
    public void KillHard()
    {
        try { _process.Kill(entireProcessTree: false); } catch (InvalidOperationException) { }
    }

    public CtbResult WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            KillHard();
            throw new TimeoutException($"ctb {string.Join(' ', _process.StartInfo.ArgumentList.Skip(1))} did not finish in {timeout.TotalSeconds:0}s:\n{OutputSoFar}");
        }
        _process.WaitForExit(); // drains the output readers
        lock (_stdout) lock (_stderr) return new CtbResult(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
    }
}

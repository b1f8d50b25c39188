using System.Diagnostics;

namespace CtBuild.Tracking;

/// <summary>The outcome of one git command.</summary>
internal sealed record GitResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>Runs the git command-line tool (<c>git -C dir ...</c>) and captures its output.</summary>
internal static class GitCli
{
    public static GitResult Run(string workingDirectory, params IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(workingDirectory);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // Plain, untranslated messages: they end up in our error messages.
        start.Environment["LC_ALL"] = "C";
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        // Inside a git hook these point at the caller's repository; -C must decide which repository we mean.
        foreach (var name in new[] { "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE" }) start.Environment.Remove(name);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("git did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new GitResult(127, "", $"git is not installed or not on PATH: {e.Message}");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return new GitResult(process.ExitCode, stdout, stderr.Result);
        }
    }
}

using System.Diagnostics;

namespace CtBuild.Tests.Support;

/// <summary>Runs git in a test folder: a real repository with a local identity, no global config needed.</summary>
public static class GitRepo
{
    public static void Init(string folder)
    {
        Run(folder, "init", "-q", "-b", "main");
        Run(folder, "config", "user.name", "CtBuild Test");
        Run(folder, "config", "user.email", "test@ctbuild.invalid");
        Run(folder, "config", "commit.gpgsign", "false");
    }

    public static void CommitAll(string folder, string message)
    {
        Run(folder, "add", "-A");
        Run(folder, "commit", "-q", "-m", message);
    }

    public static string Run(string folder, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {stderr}");
        return stdout.Trim();
    }

    public static IReadOnlyList<string> Log(string folder) =>
        Run(folder, "log", "--format=%s").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static IReadOnlyList<string> FilesIn(string folder, string commit = "HEAD") =>
        Run(folder, "show", "--name-only", "--format=", commit).Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

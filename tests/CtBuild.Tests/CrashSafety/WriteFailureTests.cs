using System.Diagnostics;
using CtBuild.Pipeline;
using CtBuild.Tests.Support;
using Xunit.Abstractions;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// A full disk or a refused permission while writing: the error names the path, the previous state is
/// intact, and a rerun once the cause is gone completes with every row once. Real failures where the
/// sandbox allows them (a 1 MiB tmpfs; the child run as <c>nobody</c>, since root ignores file modes),
/// plus the same errors thrown at named points by <see cref="FaultInjection"/>.
/// </summary>
[Trait("Category", "CrashSafety")]
public sealed class WriteFailureTests(ITestOutputHelper output)
{
    const int NewRows = 300;

    /// <summary>A workspace whose first delivery is ingested, with a second waiting.</summary>
    static CrashWorkspace Ingested(string? lakeDir = null)
    {
        var ws = new CrashWorkspace(lakeDir: lakeDir);
        var first = ws.Ctb(["ingest"]);
        Assert.True(first.ExitCode == 0, first.Output);
        ws.AddDelivery("batch-3.csv", NewRows, firstId: 5_001);
        return ws;
    }

    void AssertPreviousStateIntact(CrashWorkspace ws)
    {
        var raw = LakeAudit.Table(ws.LakeDir, "raw");
        Assert.Empty(raw.Problems);
        Assert.Equal(0, raw.Latest);
        Assert.Equal((CrashWorkspace.GoodRows, CrashWorkspace.GoodRows), ws.RowCount("raw"));
        output.WriteLine($"left behind, unreferenced: {string.Join(", ", raw.Leftovers.Select(Path.GetFileName))}");
    }

    static void AssertRerunIngestsOnce(CrashWorkspace ws)
    {
        LakeAudit.AgeLeftovers(ws.LakeDir, CrashWorkspace.Tables);
        var rerun = ws.Ctb(["ingest"]);
        Assert.True(rerun.ExitCode == 0, rerun.Output);
        var raw = LakeAudit.Table(ws.LakeDir, "raw");
        Assert.Empty(raw.Problems);
        Assert.Empty(raw.Leftovers);
        Assert.Equal((CrashWorkspace.GoodRows + NewRows, CrashWorkspace.GoodRows + NewRows), ws.RowCount("raw"));
    }

    [Fact]
    public void Disk_full_while_ingesting_names_the_path_and_keeps_the_previous_version()
    {
        var mount = Directory.CreateTempSubdirectory("ctb-full-").FullName;
        var mounted = Sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount) == 0;
        try
        {
            using var ws = Ingested(lakeDir: mounted ? mount : null);
            CtbResult failed;
            if (mounted)
            {
                Fill(mount);
                failed = ws.Ctb(["ingest"]);
            }
            else
            {
                output.WriteLine("mount is not allowed here: the full disk is simulated at lake.after-data-file:raw");
                failed = ws.Ctb(["ingest"], new Dictionary<string, string>
                    { [FaultInjection.PointVariable] = "lake.after-data-file:raw", [FaultInjection.ActionVariable] = "enospc" });
            }
            output.WriteLine(failed.StdErr);
            Assert.Equal(1, failed.ExitCode);
            Assert.Contains("No space left on device", failed.StdErr);
            Assert.Contains(mounted ? mount : Path.Combine(ws.LakeDir, "raw"), failed.StdErr); // the error names where
            Assert.DoesNotContain("   at ", failed.StdErr); // an environment problem, not a bug: no stack trace
            AssertPreviousStateIntact(ws);

            if (mounted) File.Delete(Path.Combine(mount, "filler"));
            AssertRerunIngestsOnce(ws);
        }
        finally
        {
            if (mounted) Sh("umount", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    [Fact]
    public void No_space_at_the_data_file_of_raw_keeps_the_previous_version()
    {
        using var ws = Ingested();
        var failed = ws.Ctb(["ingest"], new Dictionary<string, string>
            { [FaultInjection.PointVariable] = "lake.after-data-file:raw", [FaultInjection.ActionVariable] = "enospc" });
        output.WriteLine(failed.StdErr);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains($"No space left on device : '{Path.Combine(ws.LakeDir, "raw")}", failed.StdErr);
        AssertPreviousStateIntact(ws);
        AssertRerunIngestsOnce(ws);
    }

    [Fact]
    public void Permission_denied_on_the_delta_log_names_the_path_and_keeps_the_previous_version()
    {
        using var ws = Ingested();
        var log = Path.Combine(ws.LakeDir, "raw", "_delta_log");
        CtbResult failed;
        if (Environment.UserName == "root")
        {
            // Root ignores file modes: run the child as nobody, with the log folder left root's (mode 755).
            Assert.Equal(0, Sh("chown", "-R", "nobody", ws.Root));
            Assert.Equal(0, Sh("chown", "root", log));
            failed = CtbProcess.Run(ws.Root, ["ingest", "--config", ws.ConfigPath], new Dictionary<string, string> { ["HOME"] = ws.Root }, user: "nobody");
            Assert.Equal(0, Sh("chown", "-R", "root", ws.Root));
        }
        else
        {
            Assert.Equal(0, Sh("chmod", "555", log));
            failed = ws.Ctb(["ingest"]);
            Assert.Equal(0, Sh("chmod", "755", log));
        }
        output.WriteLine(failed.StdErr);

        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("Access to the path", failed.StdErr);
        Assert.Contains(log, failed.StdErr);
        AssertPreviousStateIntact(ws);
        AssertRerunIngestsOnce(ws);
    }

    [Fact]
    public void Permission_denied_while_promoting_leaves_the_registry_and_git_as_they_were()
    {
        using var ws = new CrashWorkspace();
        var headBefore = GitRepo.Run(ws.Root, "rev-parse", "HEAD");
        var failed = ws.Ctb(["run"], new Dictionary<string, string>
            { [FaultInjection.PointVariable] = "registry.after-files", [FaultInjection.ActionVariable] = "eacces" });
        output.WriteLine(failed.StdErr);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains($"Access to the path '{Path.Combine(ws.Root, "models", "small-model")}' is denied", failed.StdErr);
        Assert.Equal(headBefore, GitRepo.Run(ws.Root, "rev-parse", "HEAD"));
        Assert.Equal("", GitRepo.Run(ws.Root, "status", "--porcelain", "--untracked-files=all", "--", "models/"));
        Assert.False(Directory.Exists(Path.Combine(ws.Root, "models", "small-model")), "a failed first promotion leaves no model folder");

        var rerun = ws.Ctb(["run"]);
        Assert.True(rerun.ExitCode == 0, rerun.Output);
        var problems = ws.Violations(CleanRun.Facts);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Writes a file until the filesystem is full.</summary>
    static void Fill(string folder)
    {
        using var filler = new FileStream(Path.Combine(folder, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[64 * 1024];
        try
        {
            while (true) { filler.Write(block); filler.Flush(); }
        }
        catch (IOException) { } // full
    }

    static int Sh(string command, params string[] args)
    {
        var psi = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode;
    }
}

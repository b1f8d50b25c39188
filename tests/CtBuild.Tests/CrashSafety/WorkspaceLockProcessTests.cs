using CtBuild.Pipeline;
using Xunit.Abstractions;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// Two pipelines on one workspace, as real processes: one holds the workspace lock, the other waits
/// (lock.wait) or fails at once naming the holder; a lock left by a killed process is taken over.
/// A holder is made to stay inside the pipeline with the <c>pause</c> fault action, so timing is exact.
/// </summary>
[Trait("Category", "CrashSafety")]
public sealed class WorkspaceLockProcessTests(ITestOutputHelper output)
{
    static Dictionary<string, string> PauseAt(string point) => new()
    {
        [FaultInjection.PointVariable] = point,
        [FaultInjection.ActionVariable] = "pause",
    };

    static void AssertClean(CrashWorkspace ws)
    {
        var problems = ws.Violations(CleanRun.Facts);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Two_runs_at_once_one_waits_for_the_other_and_both_succeed()
    {
        using var ws = new CrashWorkspace(lockWait: "120s");
        using var a = ws.StartCtb(["run"]);
        using var b = ws.StartCtb(["run"]);
        var (ra, rb) = (a.WaitForExit(TimeSpan.FromSeconds(120)), b.WaitForExit(TimeSpan.FromSeconds(120)));
        output.WriteLine($"A (pid {a.Id}) exit {ra.ExitCode}\n{ra.Output}\nB (pid {b.Id}) exit {rb.ExitCode}\n{rb.Output}");

        Assert.Equal(0, ra.ExitCode);
        Assert.Equal(0, rb.ExitCode);
        var waited = ra.Output.Contains($"waiting for the workspace lock held by process {b.Id}")
                     || rb.Output.Contains($"waiting for the workspace lock held by process {a.Id}");
        Assert.True(waited, "one of the two runs should have waited for the other's lock");
        AssertClean(ws); // among others: exactly one promotion commit, every row once
    }

    [Fact]
    public void A_second_run_fails_at_once_naming_the_holder_and_a_killed_holders_lock_is_taken_over()
    {
        using var ws = new CrashWorkspace(lockWait: "0s");
        using var holder = ws.StartCtb(["run"], PauseAt("stage.before-lock:tune"));
        Assert.True(holder.WaitForOutput("fault point stage.before-lock:tune reached", TimeSpan.FromSeconds(90)), holder.OutputSoFar);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var second = ws.Ctb(["ingest"]);
        output.WriteLine($"second: exit {second.ExitCode} after {clock.Elapsed.TotalSeconds:0.0}s\n{second.Output}");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"The workspace is locked by process {holder.Id} on {Environment.MachineName} since ", second.StdErr);
        Assert.Contains("ctb ingest,features,split,tune,evaluate,report,promote", second.StdErr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "lock.wait 0s must fail at once, not wait");

        holder.KillHard();
        Assert.True(holder.WaitForExit(TimeSpan.FromSeconds(10)).Killed);
        Assert.True(File.Exists(WorkspaceLock.PathFor(Path.Combine(ws.Root, ".ctb"))), "a killed holder leaves its lock file");

        var rerun = ws.Ctb(["run"]);
        output.WriteLine($"rerun: exit {rerun.ExitCode}\n{rerun.Output}");
        Assert.Equal(0, rerun.ExitCode);
        Assert.Contains($"took over a stale workspace lock left by process {holder.Id}", rerun.Output);
        AssertClean(ws);
    }

    [Fact]
    public void A_waiting_run_takes_the_lock_over_when_its_holder_is_killed()
    {
        using var ws = new CrashWorkspace(lockWait: "120s");
        using var holder = ws.StartCtb(["run"], PauseAt("lake.after-data-file:features"));
        Assert.True(holder.WaitForOutput("fault point lake.after-data-file:features reached", TimeSpan.FromSeconds(90)), holder.OutputSoFar);

        using var waiter = ws.StartCtb(["run"]);
        Assert.True(waiter.WaitForOutput($"waiting for the workspace lock held by process {holder.Id}", TimeSpan.FromSeconds(30)), waiter.OutputSoFar);
        holder.KillHard();

        var result = waiter.WaitForExit(TimeSpan.FromSeconds(120));
        output.WriteLine(result.Output);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"took over a stale workspace lock left by process {holder.Id}", result.Output);
        // The holder's uncommitted features file was young during the waiter's run (it could have been a
        // live writer's), so it was kept; a later write deletes it once it is old.
        Assert.Single(LakeAudit.Table(ws.LakeDir, "features").Leftovers);
        LakeAudit.AgeLeftovers(ws.LakeDir, CrashWorkspace.Tables);
        Assert.Equal(0, ws.Ctb(["features", "--force"]).ExitCode);
        Assert.Empty(LakeAudit.Table(ws.LakeDir, "features").Leftovers);
    }
}

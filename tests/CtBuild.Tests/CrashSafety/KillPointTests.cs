using CtBuild.Pipeline;
using Xunit.Abstractions;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// Kills a real <c>ctb run</c> at each named fault point (SIGKILL from inside, see <see cref="FaultInjection"/>),
/// checks the lake is whole right after the kill, reruns without the fault, and checks the workspace
/// equals a clean run's: no torn table, no leftover file, every row once, registry files and git in
/// step, no run left Running, every stage fresh.
/// </summary>
[Trait("Category", "CrashSafety")]
public sealed class KillPointTests(ITestOutputHelper output)
{
    /// <summary>
    /// Stage × point, in pipeline order. Every point is in a write path; the lock point of features and
    /// evaluate and the temp commit of quarantine are left out to keep the suite short (the same code as
    /// the split/tune lock points and the raw temp commit).
    /// </summary>
    public static readonly (string Stage, string Point)[] Points =
    [
        ("ingest", "lake.after-data-file:quarantine"),
        ("ingest", "ingest.between-quarantine-and-raw"),
        ("ingest", "lake.after-data-file:raw"),
        ("ingest", "lake.after-commit-temp:raw"),
        ("ingest", "stage.before-lock:ingest"),
        ("features", "lake.after-data-file:features"),
        ("split", "lake.after-data-file:splits"),
        ("split", "stage.before-lock:split"),
        ("tune", "tune.after-model-save"),
        ("tune", "stage.before-lock:tune"),
        ("evaluate", "evaluate.before-decision"),
        ("report", "stage.before-lock:report"),
        ("promote", "registry.after-files"),
        ("promote", "registry.after-commit"),
        ("promote", "stage.before-lock:promote"),
    ];

    [Fact]
    public void A_kill_at_any_point_then_a_rerun_reaches_the_clean_state()
    {
        var clean = CleanRun.Facts;
        var outcomes = TwoAtATime.Run(Points.Length, i => KillThenRerun(Points[i].Stage, Points[i].Point, clean));

        output.WriteLine(CrashOutcome.Table(outcomes));
        Assert.True(outcomes.All(o => o.Ok), "Some crash scenarios broke a promise:\n" + CrashOutcome.Table(outcomes.Where(o => !o.Ok)));
    }

    static CrashOutcome KillThenRerun(string stage, string point, CrashWorkspace.Facts clean)
    {
        using var ws = new CrashWorkspace();
        var first = ws.Ctb(["run"], new Dictionary<string, string> { [FaultInjection.PointVariable] = point });
        var problems = new List<string>();
        if (!first.Killed) problems.Add($"the fault point was never reached (exit {first.ExitCode})");
        problems.AddRange(ws.Violations(null, finished: false).Select(p => "after the kill: " + p));

        LakeAudit.AgeLeftovers(ws.LakeDir, CrashWorkspace.Tables);
        var rerun = ws.Ctb(["run"]);
        if (rerun.ExitCode != 0) problems.Add($"the rerun failed (exit {rerun.ExitCode}): {Last(rerun.Output)}");
        else problems.AddRange(ws.Violations(clean));
        return new CrashOutcome(stage, point, first.Killed ? "killed" : $"exit {first.ExitCode}", rerun.ExitCode == 0 ? "ok" : $"exit {rerun.ExitCode}", problems);
    }

    internal static string Last(string text) => text.Length > 600 ? "…" + text[^600..] : text;
}

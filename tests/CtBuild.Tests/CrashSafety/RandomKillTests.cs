using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// <c>kill -9</c> from outside at seeded random moments of a real <c>ctb run</c> — wherever the process
/// happens to be, not only at the named points — then a rerun that must reach the clean state.
/// </summary>
[Trait("Category", "CrashSafety")]
public sealed class RandomKillTests(ITestOutputHelper output)
{
    const int Seed = 20261127;
    const int Kills = 3;

    [Fact]
    public void A_kill_9_at_a_random_moment_then_a_rerun_reaches_the_clean_state()
    {
        var clean = CleanRun.Facts;
        var random = new Random(Seed);
        var delays = Enumerable.Range(0, Kills).Select(_ => TimeSpan.FromMilliseconds(random.Next(300, 6000))).ToList();
        var outcomes = TwoAtATime.Run(Kills, i => KillAfter(delays[i], clean));

        output.WriteLine($"seed {Seed}");
        output.WriteLine(CrashOutcome.Table(outcomes));
        Assert.True(outcomes.All(o => o.Ok), "Some random kills broke a promise:\n" + CrashOutcome.Table(outcomes.Where(o => !o.Ok)));
    }

    static CrashOutcome KillAfter(TimeSpan delay, CrashWorkspace.Facts clean)
    {
        using var ws = new CrashWorkspace();
        var problems = new List<string>();
        string first, stage;
        using (var child = ws.StartCtb(["run"]))
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < delay && !child.HasExited) Thread.Sleep(10);
            child.KillHard();
            var result = child.WaitForExit(TimeSpan.FromSeconds(30));
            first = result.Killed ? "killed" : $"ended first (exit {result.ExitCode})";
            stage = Regex.Matches(result.Output, @"^(\w+): running", RegexOptions.Multiline).LastOrDefault()?.Groups[1].Value ?? "(start)";
            if (!result.Killed && result.ExitCode != 0) problems.Add($"the run failed before the kill: {KillPointTests.Last(result.Output)}");
        }
        problems.AddRange(ws.Violations(null, finished: false).Select(p => "after the kill: " + p));

        LakeAudit.AgeLeftovers(ws.LakeDir, CrashWorkspace.Tables);
        var rerun = ws.Ctb(["run"]);
        if (rerun.ExitCode != 0) problems.Add($"the rerun failed (exit {rerun.ExitCode}): {KillPointTests.Last(rerun.Output)}");
        else problems.AddRange(ws.Violations(clean));
        return new CrashOutcome(stage, $"kill -9 at {delay.TotalSeconds:0.00}s", first, rerun.ExitCode == 0 ? "ok" : $"exit {rerun.ExitCode}", problems);
    }
}

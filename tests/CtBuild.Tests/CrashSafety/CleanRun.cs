namespace CtBuild.Tests.CrashSafety;

/// <summary>The state one uninterrupted <c>ctb run</c> reaches on a <see cref="CrashWorkspace"/>: what every rerun after a crash must equal.</summary>
public static class CleanRun
{
    static readonly Lazy<CrashWorkspace.Facts> Reference = new(() =>
    {
        using var ws = new CrashWorkspace();
        var run = ws.Ctb(["run"]);
        if (run.ExitCode != 0) throw new InvalidOperationException($"The clean reference run failed (exit {run.ExitCode}):\n{run.Output}");
        var problems = ws.Violations(null);
        if (problems.Count > 0) throw new InvalidOperationException("The clean reference run breaks the checks itself:\n" + string.Join("\n", problems));
        return ws.Read();
    });

    public static CrashWorkspace.Facts Facts => Reference.Value;
}

/// <summary>One row of the crash table printed by the tests.</summary>
public sealed record CrashOutcome(string Stage, string KillPoint, string FirstRun, string Rerun, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;

    public static string Table(IEnumerable<CrashOutcome> outcomes)
    {
        var rows = outcomes.ToList();
        var lines = new List<string>
        {
            $"| {"stage",-9} | {"kill point",-36} | {"first run",-22} | {"rerun",-7} | outcome |",
            $"|{new string('-', 11)}|{new string('-', 38)}|{new string('-', 24)}|{new string('-', 9)}|---------|",
        };
        foreach (var r in rows)
            lines.Add($"| {r.Stage,-9} | {r.KillPoint,-36} | {r.FirstRun,-22} | {r.Rerun,-7} | {(r.Ok ? "ok" : "FAILED: " + string.Join("; ", r.Problems))} |");
        return string.Join("\n", lines);
    }
}

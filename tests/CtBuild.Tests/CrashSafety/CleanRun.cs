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

/// <summary>
/// Runs scenarios two at a time on dedicated threads. Not the thread pool: a scenario blocks for seconds
/// on a child process, and holding pool threads that long starves other tests running in parallel.
/// </summary>
public static class TwoAtATime
{
    public static T[] Run<T>(int count, Func<int, T> scenario)
    {
        var results = new T[count];
        var next = -1;
        Exception? failure = null;
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            try
            {
                for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
                    results[i] = scenario(i);
            }
            catch (Exception ex) { failure = ex; }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (failure is not null) throw new AggregateException(failure);
        return results;
    }
}

namespace CtBuild.Reporting;

/// <summary>The reports index: every run, newest first, and the champion's AUC over time.</summary>
public sealed record IndexPage(IReadOnlyList<IndexEntry> Runs, IReadOnlyList<ChampionPoint> ChampionHistory)
{
    /// <summary>Orders runs newest first and derives the champion's AUC after each run.</summary>
    public static IndexPage FromRuns(IEnumerable<IndexEntry> runs)
    {
        var newestFirst = runs.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.RunId, StringComparer.Ordinal).ToList();
        var history = new List<ChampionPoint>();
        foreach (var run in Enumerable.Reverse(newestFirst))
        {
            // After a promotion the candidate is the champion; otherwise the champion stands as measured this run.
            if (run.Outcome == DecisionOutcome.Promoted)
                history.Add(new ChampionPoint(run.StartedAt, run.CandidateAuc, run.ModelName, run.Version));
            else if (run.ChampionAuc is { } auc)
                history.Add(new ChampionPoint(run.StartedAt, auc, run.ModelName, history.LastOrDefault()?.Version));
        }
        return new IndexPage(newestFirst, history);
    }
}

/// <summary>One run on the index page.</summary>
/// <param name="Link">Relative link to the run's report, e.g. "20261127-0740-ab12/report.html".</param>
public sealed record IndexEntry(
    DateTimeOffset StartedAt,
    string RunId,
    DecisionOutcome Outcome,
    string ModelName,
    int? Version,
    double CandidateAuc,
    double? ChampionAuc,
    string Link)
{
    /// <summary>The index row for a report stored at <paramref name="link"/>.</summary>
    public static IndexEntry From(PipelineReport report, string link) => new(
        report.StartedAt, report.RunId, report.Decision.Outcome, report.Decision.ModelName, report.Decision.Version,
        report.Models.Candidate.Auc, report.Models.Champion?.Auc, link);

    /// <summary>"PROMOTED", "KEPT CHAMPION" or "REJECTED".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string OutcomeLabel => Outcome.Label();
}

/// <summary>The champion's test AUC after a run.</summary>
public sealed record ChampionPoint(DateTimeOffset At, double Auc, string ModelName, int? Version);

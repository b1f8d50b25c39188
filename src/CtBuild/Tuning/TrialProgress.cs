namespace CtBuild.Tuning;

/// <summary>Reported after each finished trial so a caller can show "trial 12/60, best 0.9213, ~1m20s left".</summary>
/// <param name="Finished">Trials finished so far (failed ones count).</param>
/// <param name="Total">The study's <see cref="StudyOptions.MaxEvals"/>.</param>
/// <param name="Trial">The trial that just finished.</param>
/// <param name="BestValue">Best value so far; null while no trial has completed.</param>
/// <param name="Elapsed">Wall-clock time since the study started optimising.</param>
/// <param name="Remaining">Estimate: mean wall time per finished trial times trials left, capped by the budget.</param>
public sealed record TrialProgress(int Finished, int Total, FrozenTrial Trial, double? BestValue, TimeSpan Elapsed, TimeSpan Remaining)
{
    public override string ToString() =>
        $"trial {Finished}/{Total}, best {(BestValue is { } b ? b.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : "-")}, ~{Format(Remaining)} left";

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
        : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s"
        : $"{Math.Ceiling(t.TotalSeconds)}s";
}

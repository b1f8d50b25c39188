namespace CtBuild.Tuning;

/// <summary>
/// What each branch of a choice (e.g. each trainer) has cost so far, for cost-aware TPE
/// (<see cref="TpeOptions.CostAware"/>): the median cost of the finished trials that took it, against the median cost
/// of all finished trials that made the choice. A branch nobody has tried yet costs the overall median, so it is neither
/// favoured nor held back for its cost.
/// </summary>
internal sealed class ChoiceCosts
{
    // A trial reported as costing nothing (a cached model, a clock tick) must not make its branch infinitely cheap.
    private const double FloorSeconds = 1e-3;

    private readonly IReadOnlyDictionary<object, double> _medians;
    private readonly double _overall;

    private ChoiceCosts(IReadOnlyDictionary<object, double> medians, double overall) => (_medians, _overall) = (medians, overall);

    /// <summary>The costs of <paramref name="choice"/>'s branches, or null when no finished trial that made the choice has a cost.</summary>
    public static ChoiceCosts? From(string choice, IEnumerable<(IReadOnlyDictionary<string, object> Params, double? Cost)> trials)
    {
        var costed = trials.Where(t => t.Cost is not null && t.Params.ContainsKey(choice))
            .Select(t => (Label: t.Params[choice], Cost: Math.Max(t.Cost!.Value, FloorSeconds))).ToList();
        if (costed.Count == 0) return null;
        var medians = costed.GroupBy(t => t.Label).ToDictionary(g => g.Key, g => Median(g.Select(t => t.Cost)));
        return new ChoiceCosts(medians, Median(costed.Select(t => t.Cost)));
    }

    /// <summary>log(cost of the branch / overall median cost): positive for a branch dearer than the typical trial.</summary>
    public double LogRelativeCost(object label) => Math.Log(_medians.GetValueOrDefault(label, _overall) / _overall);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

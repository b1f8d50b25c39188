namespace CtBuild.Tuning;

/// <summary>
/// Proposes fixed start points first, in order, then asks <paramref name="inner"/>: FLAML's low-cost initial point,
/// where each trainer is first tried in a cheap configuration (few trees, few leaves, few iterations) before the
/// sampler's random startup trials, so the first minutes of a search already give every trainer a fair, quick score.
/// </summary>
/// <remarks>Point k is trial k's (counting the trials that count, as <see cref="SamplerRandom"/> does): a resumed study
/// or another worker asks the same question and gets the same answer. The start points count as startup trials of the
/// inner sampler once finished.</remarks>
public sealed class StartPointsSampler(ISampler inner, IReadOnlyList<IReadOnlyDictionary<string, object>> points) : ISampler
{
    public ISampler Inner { get; } = inner;

    public IReadOnlyList<IReadOnlyDictionary<string, object>> Points { get; } = points;

    public IReadOnlyDictionary<string, object> Sample(SearchSpace space, IReadOnlyList<FrozenTrial> trials, StudyDirection direction)
    {
        int n = trials.Count(t => !t.IsAbandoned);
        return n < Points.Count ? Points[n] : Inner.Sample(space, trials, direction);
    }
}

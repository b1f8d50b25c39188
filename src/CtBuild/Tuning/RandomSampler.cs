namespace CtBuild.Tuning;

/// <summary>Draws every parameter independently and uniformly on its internal scale (log scale for log parameters). The baseline.</summary>
/// <remarks>Each suggestion's random numbers come from (seed, number of trials that count), see <see cref="SamplerRandom"/>.</remarks>
public sealed class RandomSampler(int? seed = null) : ISampler
{
    private readonly ulong _seed = seed is { } s ? (ulong)s : SamplerRandom.AnySeed();

    public IReadOnlyDictionary<string, object> Sample(SearchSpace space, IReadOnlyList<FrozenTrial> trials, StudyDirection direction)
    {
        var values = new Dictionary<string, object>();
        SampleInto(space, values, SamplerRandom.For(_seed, trials));
        return values;
    }

    /// <summary>A uniform draw of every active parameter of <paramref name="space"/>, shared with TPE's startup trials.</summary>
    internal static void SampleInto(SearchSpace space, Dictionary<string, object> values, Random random) =>
        space.Sample(random, values, (r, _, distribution) => Draw(distribution, r), (r, _, _) => r);

    internal static object Draw(Distribution distribution, Random random) => distribution is CategoricalDistribution c
        ? c.Choices[random.Next(c.Choices.Count)]
        : distribution.ToExternal(distribution.InternalLow + random.NextDouble() * (distribution.InternalHigh - distribution.InternalLow));
}

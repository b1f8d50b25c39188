using CtBuild.Evaluation;

namespace CtBuild.Tuning;

/// <summary>
/// The samplers' random numbers: CtBuild's own xoshiro256** (<see cref="Xoshiro256x4"/>), whose sequence is fixed by
/// CtBuild, behind <see cref="Random"/>'s members so the samplers' code reads as usual. <see cref="System.Random"/>
/// with a seed does not promise the same sequence across the .NET versions <c>global.json</c> rolls forward to.
/// </summary>
/// <remarks>
/// A sampler makes a fresh one per suggestion from (seed, how many trials count so far), so a suggestion depends only
/// on the seed and the trials: a resumed study or another process asks the same question and gets the same answer.
/// </remarks>
internal sealed class SamplerRandom(ulong seed, ulong stream) : Random
{
    private Xoshiro256x4 _generator = new(seed, stream);

    /// <summary>The generator for the suggestion that follows <paramref name="trials"/>: abandoned trials do not count (their retry does).</summary>
    public static SamplerRandom For(ulong seed, IReadOnlyList<FrozenTrial> trials) => new(seed, (ulong)trials.Count(t => !t.IsAbandoned));

    /// <summary>A seed for an unseeded sampler, drawn once.</summary>
    public static ulong AnySeed() => (ulong)Random.Shared.NextInt64();

    public override double NextDouble() => _generator.NextDouble();

    protected override double Sample() => _generator.NextDouble();

    public override int Next() => (int)(_generator.NextDouble() * int.MaxValue);

    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return Math.Min((int)(_generator.NextDouble() * maxValue), Math.Max(0, maxValue - 1));
    }

    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue + Next(maxValue - minValue);
    }

    public override long NextInt64() => (long)(_generator.NextDouble() * long.MaxValue);

    public override float NextSingle() => (float)_generator.NextDouble();

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)(_generator.NextDouble() * 256);
    }
}

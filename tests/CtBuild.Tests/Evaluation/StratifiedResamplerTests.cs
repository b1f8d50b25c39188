using System.Runtime.Intrinsics;
using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public sealed class StratifiedResamplerTests
{
    struct ListSink(List<int> items) : StratifiedResampler.ISink
    {
        public readonly void Add(int drawIndex) => items.Add(drawIndex);
    }

    /// <summary>The definition the vectorised draws must reproduce: Lemire's multiply-and-reject, value by value.</summary>
    static List<int> Scalar(Xoshiro256x4 random, int offset, int bound, int count)
    {
        var drawn = new List<int>();
        var threshold = (0u - (uint)bound) % (uint)bound;
        Span<uint> values = stackalloc uint[8];
        while (drawn.Count < count)
        {
            var eight = random.NextEight();
            for (var i = 0; i < 8; i++) values[i] = eight.GetElement(i);
            for (var i = 0; i < values.Length && drawn.Count < count; i++)
            {
                var product = (ulong)values[i] * (uint)bound;
                if ((uint)product >= threshold) drawn.Add(offset + (int)(product >> 32));
            }
        }
        return drawn;
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(7, 13)]
    [InlineData(1_000_003, 20_000)]
    [InlineData(1_500_000_000, 20_000)] // about 30% of values rejected: the fallback path runs often
    [InlineData(int.MaxValue, 999)]
    public void Vectorised_draws_equal_the_scalar_definition(int bound, int count)
    {
        var drawn = new List<int>();
        var sink = new ListSink(drawn);
        StratifiedResampler.DrawUniform(new Xoshiro256x4(42, 7), 5, bound, count, ref sink);

        Assert.Equal(Scalar(new Xoshiro256x4(42, 7), 5, bound, count), drawn);
        Assert.All(drawn, d => Assert.InRange(d, 5, 5 + (long)bound - 1));
    }
}

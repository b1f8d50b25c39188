using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CtBuild.Evaluation;

/// <summary>
/// Draws stratified bootstrap resamples: resample r draws |positives| rows from the positives and
/// |negatives| rows from the negatives, with replacement, from the stream (seed, r). Both the fast and
/// the naive comparison draw through <see cref="Draw{TSink}"/>, so the same seed gives the same draws.
/// </summary>
/// <remarks>
/// Draw space: index j &lt; P is <see cref="Positives"/>[j], index P + j is <see cref="Negatives"/>[j].
/// The class lists are in the candidate's ascending score order, so the fast path reads the
/// candidate's counts sequentially; any fixed order gives the same distribution.
/// </remarks>
internal sealed class StratifiedResampler
{
    public StratifiedResampler(int[] positives, int[] negatives, ulong seed)
        => (Positives, Negatives, Seed) = (positives, negatives, seed);

    public int[] Positives { get; }
    public int[] Negatives { get; }
    public ulong Seed { get; }
    public int Rows => Positives.Length + Negatives.Length;

    /// <summary>Class lists taken in the order of <paramref name="order"/>.</summary>
    public static StratifiedResampler InOrder(bool[] labels, ScoreOrder order, ulong seed)
    {
        int positiveCount = 0;
        foreach (bool label in labels) if (label) positiveCount++;
        var positives = new int[positiveCount];
        var negatives = new int[labels.Length - positiveCount];
        int p = 0, n = 0;
        foreach (int row in order.Rows)
            if (labels[row]) positives[p++] = row; else negatives[n++] = row;
        return new StratifiedResampler(positives, negatives, seed);
    }

    /// <summary>Receives each draw-space index of a resample, in draw order.</summary>
    public interface ISink
    {
        void Add(int drawIndex);
    }

    /// <summary>
    /// The one definition of resample <paramref name="resample"/>: P draws over [0, P), then N draws over
    /// [P, P + N). A generic struct sink keeps the per-draw call inlined.
    /// </summary>
    public void Draw<TSink>(int resample, ref TSink sink) where TSink : struct, ISink
    {
        var random = new Xoshiro256x4(Seed, (ulong)resample);
        random = DrawUniform(random, 0, Positives.Length, Positives.Length, ref sink);
        DrawUniform(random, Positives.Length, Negatives.Length, Negatives.Length, ref sink);
    }

    // Draws `count` uniform indices in [offset, offset + bound) by Lemire's multiply-and-reject over the
    // generator's 32-bit values, in order; values left in the last step are dropped. The generator is
    // passed by value and returned so the loop works on a copy held in registers. With AVX2 the eight
    // products of a step are formed and checked at once; a step holding a rejected value (a chance of
    // 8·bound/2^32) or the last partial step goes through the scalar loop, so the draws are the same.
    internal static Xoshiro256x4 DrawUniform<TSink>(Xoshiro256x4 random, int offset, int bound, int count, ref TSink sink)
        where TSink : struct, ISink
    {
        uint threshold = (0u - (uint)bound) % (uint)bound; // products whose low half falls below are biased
        Span<uint> values = stackalloc uint[8];
        var bounds = Vector256.Create((ulong)(uint)bound).AsUInt32();
        var thresholds = Vector256.Create(threshold);
        var lowHalves = Vector256.Create(0xFFFFFFFFUL);
        for (int k = 0; k < count;)
        {
            var eight = random.NextEight();
            if (Avx2.IsSupported && k + 8 <= count)
            {
                var even = Avx2.Multiply(eight, bounds);                          // products of values 0, 2, 4, 6
                var odd = Avx2.Multiply((eight.AsUInt64() >>> 32).AsUInt32(), bounds); // of values 1, 3, 5, 7
                var lows = ((even & lowHalves) | (odd << 32)).AsUInt32();
                if (!Vector256.LessThanAny(lows, thresholds))
                {
                    ((even >>> 32) | (odd & ~lowHalves)).AsUInt32().StoreUnsafe(ref MemoryMarshal.GetReference(values));
                    foreach (uint index in values) sink.Add(offset + (int)index);
                    k += 8;
                    continue;
                }
            }
            eight.StoreUnsafe(ref MemoryMarshal.GetReference(values));
            for (int i = 0; i < values.Length && k < count; i++)
            {
                ulong product = (ulong)values[i] * (uint)bound;
                if ((uint)product < threshold) continue;
                sink.Add(offset + (int)(product >> 32));
                k++;
            }
        }
        return random;
    }

    /// <summary>Resample <paramref name="resample"/> as original row indices, materialised (the naive way).</summary>
    public int[] DrawRows(int resample)
    {
        var sink = new RowSink(this, new int[Rows]);
        Draw(resample, ref sink);
        return sink.Rows;
    }

    private struct RowSink(StratifiedResampler resampler, int[] rows) : ISink
    {
        private int _next;
        public readonly int[] Rows => rows;

        public void Add(int drawIndex)
        {
            int p = resampler.Positives.Length;
            rows[_next++] = drawIndex < p ? resampler.Positives[drawIndex] : resampler.Negatives[drawIndex - p];
        }
    }
}

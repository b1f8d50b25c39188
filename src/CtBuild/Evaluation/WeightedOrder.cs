using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CtBuild.Evaluation;

/// <summary>
/// One model's score order expressed in a resampler's draw space, so the AUC of a resample (given as
/// multiplicity counts) takes one linear pass instead of a re-sort. Eight resamples go through each pass
/// together: their counts are packed one byte per resample in a ulong per draw-space index, so the order
/// is read once for eight resamples and the arithmetic runs eight lanes wide.
/// </summary>
internal sealed class WeightedOrder
{
    /// <summary>Resamples evaluated per pass (bytes in a ulong).</summary>
    public const int Lanes = 8;

    private readonly int[] _drawIndex;     // draw-space index at each ascending-score position
    private readonly int _positives;       // draw-space indices below this are positives
    private readonly (int Start, int End)[] _mixedTies; // tie groups holding both classes

    private WeightedOrder(int[] drawIndex, int positives, (int, int)[] mixedTies)
        => (_drawIndex, _positives, _mixedTies) = (drawIndex, positives, mixedTies);

    public static WeightedOrder Build(bool[] labels, ScoreOrder order, StratifiedResampler resampler)
    {
        var drawIndexOfRow = new int[labels.Length];
        int p = resampler.Positives.Length;
        for (int j = 0; j < p; j++) drawIndexOfRow[resampler.Positives[j]] = j;
        for (int j = 0; j < resampler.Negatives.Length; j++) drawIndexOfRow[resampler.Negatives[j]] = p + j;

        var drawIndex = new int[labels.Length];
        var mixedTies = new List<(int, int)>();
        int[] rows = order.Rows;
        for (int start = 0; start < rows.Length;)
        {
            int end = order.GroupEnd(start);
            // Within a tie group, negatives go first: the linear pass then counts every tied
            // negative as fully below each tied positive, and the mixed-tie pass takes half back.
            int at = start;
            for (int k = start; k < end; k++)
                if (!labels[rows[k]]) drawIndex[at++] = drawIndexOfRow[rows[k]];
            int firstPositive = at;
            for (int k = start; k < end; k++)
                if (labels[rows[k]]) drawIndex[at++] = drawIndexOfRow[rows[k]];
            if (firstPositive > start && firstPositive < end) mixedTies.Add((start, end));
            start = end;
        }
        return new WeightedOrder(drawIndex, p, mixedTies.ToArray());
    }

    /// <summary>
    /// Twice the weighted Mann-Whitney U of up to eight resamples: byte l of <paramref name="packedCounts"/>[d]
    /// (see <see cref="PackedCounts"/>) is how many times draw-space index d is in resample l. Exact integer arithmetic, so each lane equals
    /// the naive re-sort bit for bit. <paramref name="allowSimd"/> = false forces the scalar path (for tests).
    /// </summary>
    public void TwiceU(ulong[] packedCounts, Span<long> twiceU, bool allowSimd = true)
    {
        if (packedCounts.Length < _drawIndex.Length)
            throw new ArgumentException($"packedCounts has {packedCounts.Length} entries; this order needs {_drawIndex.Length}.", nameof(packedCounts));
        if (twiceU.Length != Lanes)
            throw new ArgumentException($"twiceU must have {Lanes} entries.", nameof(twiceU));

        if (allowSimd && Avx2.IsSupported) LinearPassAvx2(packedCounts, twiceU);
        else LinearPassScalar(packedCounts, twiceU);

        for (int lane = 0; lane < Lanes; lane++)
            twiceU[lane] = 2 * twiceU[lane] - TieExcess(packedCounts, lane);
    }

    // u = Σ over positions of w·(negative weight below), with negatives first inside a tie group.
    private void LinearPassScalar(ulong[] packedCounts, Span<long> u)
    {
        for (int lane = 0; lane < Lanes; lane++)
        {
            long sum = 0, negativesBelow = 0;
            foreach (int d in _drawIndex)
            {
                long w = (long)(packedCounts[d] >> (8 * lane)) & 0xFF;
                if (d < _positives) sum += w * negativesBelow; else negativesBelow += w;
            }
            u[lane] = sum;
        }
    }

    private void LinearPassAvx2(ulong[] packedCounts, Span<long> u)
    {
        ref int index = ref MemoryMarshal.GetArrayDataReference(_drawIndex);
        ref ulong counts = ref MemoryMarshal.GetArrayDataReference(packedCounts);
        // Lanes 0-3 and 4-7 in two registers of four 64-bit sums each.
        Vector256<ulong> sumLow = default, sumHigh = default, belowLow = default, belowHigh = default;
        int p = _positives;
        for (int k = 0; k < _drawIndex.Length; k++)
        {
            int d = Unsafe.Add(ref index, k); // checked above: every d < packedCounts.Length
            ulong packed = Unsafe.Add(ref counts, d);
            var wLow = Avx2.ConvertToVector256Int64(Vector128.CreateScalarUnsafe((uint)packed).AsByte()).AsUInt64();
            var wHigh = Avx2.ConvertToVector256Int64(Vector128.CreateScalarUnsafe((uint)(packed >> 32)).AsByte()).AsUInt64();
            var positive = Vector256.Create((ulong)((long)(d - p) >> 63)); // all ones for a positive
            sumLow += Avx2.Multiply((wLow & positive).AsUInt32(), belowLow.AsUInt32());
            sumHigh += Avx2.Multiply((wHigh & positive).AsUInt32(), belowHigh.AsUInt32());
            belowLow += Avx2.AndNot(positive, wLow);
            belowHigh += Avx2.AndNot(positive, wHigh);
        }
        for (int lane = 0; lane < 4; lane++)
        {
            u[lane] = (long)sumLow.GetElement(lane);
            u[lane + 4] = (long)sumHigh.GetElement(lane);
        }
    }

    // Σ over mixed tie groups of (positive weight)·(negative weight): what the linear pass over-counted, twice.
    private long TieExcess(ulong[] packedCounts, int lane)
    {
        long excess = 0;
        foreach (var (start, end) in _mixedTies)
        {
            long positives = 0, negatives = 0;
            for (int k = start; k < end; k++)
            {
                int d = _drawIndex[k];
                long w = (long)(packedCounts[d] >> (8 * lane)) & 0xFF;
                if (d < _positives) positives += w; else negatives += w;
            }
            excess += positives * negatives;
        }
        return excess;
    }
}

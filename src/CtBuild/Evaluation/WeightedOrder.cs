using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CtBuild.Evaluation;

/// <summary>
/// One model's score order expressed in a resampler's draw space, so the AUC of any resample
/// (given as multiplicity counts) takes one linear pass instead of a re-sort.
/// </summary>
internal sealed class WeightedOrder
{
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
    /// Twice the weighted Mann-Whitney U, where <paramref name="counts"/>[d] is how many times draw-space
    /// index d is in the resample. Exact integer arithmetic, so it equals the naive re-sort bit for bit.
    /// </summary>
    public long TwiceU(byte[] counts)
    {
        if (counts.Length < _drawIndex.Length)
            throw new ArgumentException($"counts has {counts.Length} entries; this order needs {_drawIndex.Length}.", nameof(counts));
        ref byte weight = ref MemoryMarshal.GetArrayDataReference(counts);
        ref int index = ref MemoryMarshal.GetArrayDataReference(_drawIndex);
        long u = 0, negativesBelow = 0;
        int p = _positives;
        for (int k = 0; k < _drawIndex.Length; k++)
        {
            int d = Unsafe.Add(ref index, k);
            long w = Unsafe.Add(ref weight, d);
            long positiveMask = (long)(d - p) >> 63; // all ones for a positive; branch-free on purpose
            u += (w & positiveMask) * negativesBelow;
            negativesBelow += w & ~positiveMask;
        }

        long tieExcess = 0;
        foreach (var (start, end) in _mixedTies)
        {
            long positives = 0, negatives = 0;
            for (int k = start; k < end; k++)
            {
                int d = _drawIndex[k];
                if (d < p) positives += counts[d]; else negatives += counts[d];
            }
            tieExcess += positives * negatives;
        }
        return 2 * u - tieExcess;
    }
}

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
/// <remarks>
/// Ties: inside a group of equal scores the negatives come first, so when the pass reaches a tied
/// positive, <c>below</c> holds every negative under it plus every tied negative, while <c>belowAtStart</c>
/// (taken where the group starts) holds only those strictly under it. Their sum is twice the positive's
/// Mann-Whitney credit with ties counted half, whatever the group's size, in the same single pass.
/// </remarks>
internal sealed class WeightedOrder
{
    /// <summary>Resamples evaluated per pass (bytes in a ulong).</summary>
    public const int Lanes = 8;

    private const int PrefetchDistance = 64;

    private const int GroupStart = int.MinValue; // top bit of an entry: first position of a tie group

    private readonly int[] _entries;   // draw-space index at each ascending-score position, | GroupStart
    private readonly int _positives;   // draw-space indices below this are positives

    private WeightedOrder(int[] entries, int positives) => (_entries, _positives) = (entries, positives);

    public static WeightedOrder Build(bool[] labels, ScoreOrder order, StratifiedResampler resampler)
    {
        var drawIndexOfRow = new int[labels.Length];
        int p = resampler.Positives.Length;
        for (int j = 0; j < p; j++) drawIndexOfRow[resampler.Positives[j]] = j;
        for (int j = 0; j < resampler.Negatives.Length; j++) drawIndexOfRow[resampler.Negatives[j]] = p + j;

        var entries = new int[labels.Length];
        int[] rows = order.Rows;
        for (int start = 0; start < rows.Length;)
        {
            int end = order.GroupEnd(start);
            int at = start;
            for (int k = start; k < end; k++)
                if (!labels[rows[k]]) entries[at++] = drawIndexOfRow[rows[k]];
            for (int k = start; k < end; k++)
                if (labels[rows[k]]) entries[at++] = drawIndexOfRow[rows[k]];
            entries[start] |= GroupStart;
            start = end;
        }
        return new WeightedOrder(entries, p);
    }

    /// <summary>
    /// Twice the weighted Mann-Whitney U of up to eight resamples: byte l of <paramref name="packedCounts"/>[d]
    /// (see <see cref="PackedCounts"/>) is how many times draw-space index d is in resample l. Exact integer
    /// arithmetic, so each lane equals the naive re-sort bit for bit. <paramref name="allowSimd"/> = false
    /// forces the scalar path (for tests).
    /// </summary>
    public void TwiceU(ulong[] packedCounts, Span<long> twiceU, bool allowSimd = true)
    {
        if (packedCounts.Length < _entries.Length)
            throw new ArgumentException($"packedCounts has {packedCounts.Length} entries; this order needs {_entries.Length}.", nameof(packedCounts));
        if (twiceU.Length != Lanes)
            throw new ArgumentException($"twiceU must have {Lanes} entries.", nameof(twiceU));

        if (allowSimd && Avx2.IsSupported) PassAvx2(packedCounts, twiceU);
        else PassScalar(packedCounts, twiceU);
    }

    private void PassScalar(ulong[] packedCounts, Span<long> twiceU)
    {
        for (int lane = 0; lane < Lanes; lane++)
        {
            long sum = 0, below = 0, belowAtStart = 0;
            foreach (int entry in _entries)
            {
                int d = entry & int.MaxValue;
                long w = (long)(packedCounts[d] >> (8 * lane)) & 0xFF;
                if (entry < 0) belowAtStart = below;
                if (d < _positives) sum += w * (below + belowAtStart); else below += w;
            }
            twiceU[lane] = sum;
        }
    }

    private unsafe void PassAvx2(ulong[] packedCounts, Span<long> twiceU)
    {
        ref int entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        ref ulong counts = ref MemoryMarshal.GetArrayDataReference(packedCounts);
        // Lanes 0-3 and 4-7 in two registers of four 64-bit values each.
        Vector256<ulong> sumLow = default, sumHigh = default, belowLow = default, belowHigh = default,
                         startLow = default, startHigh = default;
        int p = _positives;
        int last = _entries.Length - 1;
        for (int k = 0; k < _entries.Length; k++)
        {
            // The champion's order reads the counts in random order: ask for the line 64 entries ahead, so
            // many cache misses are in flight at once instead of one at a time (a third faster pass).
            int ahead = Unsafe.Add(ref entries, Math.Min(k + PrefetchDistance, last)) & int.MaxValue;
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref counts, ahead))); // Avx2 implies Sse
            int entry = Unsafe.Add(ref entries, k);
            int d = entry & int.MaxValue;
            ulong packed = Unsafe.Add(ref counts, d); // checked above: every d < packedCounts.Length
            var wLow = Avx2.ConvertToVector256Int64(Vector128.CreateScalarUnsafe((uint)packed).AsByte()).AsUInt64();
            var wHigh = Avx2.ConvertToVector256Int64(Vector128.CreateScalarUnsafe((uint)(packed >> 32)).AsByte()).AsUInt64();
            var groupStart = Vector256.Create((ulong)(long)(entry >> 31));  // all ones at a group start
            var positive = Vector256.Create((ulong)((long)(d - p) >> 63)); // all ones for a positive
            startLow = Vector256.ConditionalSelect(groupStart, belowLow, startLow);
            startHigh = Vector256.ConditionalSelect(groupStart, belowHigh, startHigh);
            // Both factors are below 2^32 (a count ≤ 255, twice a class size), as vpmuludq needs.
            sumLow += Avx2.Multiply((wLow & positive).AsUInt32(), (belowLow + startLow).AsUInt32());
            sumHigh += Avx2.Multiply((wHigh & positive).AsUInt32(), (belowHigh + startHigh).AsUInt32());
            belowLow += Avx2.AndNot(positive, wLow);
            belowHigh += Avx2.AndNot(positive, wHigh);
        }
        for (int lane = 0; lane < 4; lane++)
        {
            twiceU[lane] = (long)sumLow.GetElement(lane);
            twiceU[lane + 4] = (long)sumHigh.GetElement(lane);
        }
    }
}

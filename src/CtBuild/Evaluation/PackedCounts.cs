using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CtBuild.Evaluation;

/// <summary>
/// Multiplicities of up to eight resamples. Each resample is drawn into its own byte array (1 byte per
/// draw-space index keeps the random increments inside the cache), then <see cref="Pack"/> interleaves
/// them so byte <c>lane</c> of <see cref="Packed"/>[d] is lane's count of index d, and
/// <see cref="WeightedOrder"/> reads all eight with one load.
/// </summary>
internal sealed class PackedCounts
{
    private readonly byte[][] _lanes;

    public PackedCounts(int rows)
    {
        _lanes = new byte[WeightedOrder.Lanes][];
        for (int lane = 0; lane < _lanes.Length; lane++) _lanes[lane] = new byte[rows];
        Packed = new ulong[rows];
    }

    /// <summary>The counts after <see cref="Pack"/>: lane l is bits 8l to 8l + 7 (byte l in memory on little-endian).</summary>
    public ulong[] Packed { get; }

    /// <summary>Draws resample <paramref name="resample"/> into lane <paramref name="lane"/>, which must be zero.</summary>
    public void Draw(StratifiedResampler resampler, int resample, int lane)
    {
        byte[] counts = _lanes[lane];
        if (resampler.Rows > counts.Length)
            throw new ArgumentException($"The resampler has {resampler.Rows} rows; these counts hold {counts.Length}.", nameof(resampler));
        var sink = new CountSink(counts);
        resampler.Draw(resample, ref sink);
    }

    /// <summary>
    /// Interleaves the lanes into <see cref="Packed"/>, zeroes them for the next batch, and returns a bit
    /// for each of the first <paramref name="lanesUsed"/> lanes whose counts do not add up to
    /// <paramref name="draws"/>: a multiplicity passed 255 and wrapped (probability below 1e-400 at any
    /// size; the caller then computes that resample the naive way). Checking the sums here keeps the
    /// per-draw increment free of any bookkeeping.
    /// </summary>
    public int Pack(int draws, int lanesUsed)
    {
        Span<long> sums = stackalloc long[WeightedOrder.Lanes];
        int done = Sse2.IsSupported ? PackSse2(sums) : 0;
        PackScalar(done, sums);
        foreach (byte[] lane in _lanes) Array.Clear(lane);

        int wrapped = 0;
        for (int lane = 0; lane < lanesUsed; lane++)
            if (sums[lane] != draws) wrapped |= 1 << lane;
        return wrapped;
    }

    private void PackScalar(int from, Span<long> sums)
    {
        byte[] c0 = _lanes[0], c1 = _lanes[1], c2 = _lanes[2], c3 = _lanes[3],
               c4 = _lanes[4], c5 = _lanes[5], c6 = _lanes[6], c7 = _lanes[7];
        ulong[] packed = Packed;
        for (int d = from; d < packed.Length; d++)
        {
            packed[d] = c0[d] | (ulong)c1[d] << 8 | (ulong)c2[d] << 16 | (ulong)c3[d] << 24
                      | (ulong)c4[d] << 32 | (ulong)c5[d] << 40 | (ulong)c6[d] << 48 | (ulong)c7[d] << 56;
            for (int lane = 0; lane < WeightedOrder.Lanes; lane++) sums[lane] += _lanes[lane][d];
        }
    }

    // An 8×16 byte transpose per step: three rounds of unpacks turn 16 bytes from each lane into 16
    // packed ulongs, and psadbw against zero sums each lane's bytes on the way. Returns the rows done.
    private int PackSse2(Span<long> sums)
    {
        ref byte c0 = ref MemoryMarshal.GetArrayDataReference(_lanes[0]), c1 = ref MemoryMarshal.GetArrayDataReference(_lanes[1]),
                 c2 = ref MemoryMarshal.GetArrayDataReference(_lanes[2]), c3 = ref MemoryMarshal.GetArrayDataReference(_lanes[3]),
                 c4 = ref MemoryMarshal.GetArrayDataReference(_lanes[4]), c5 = ref MemoryMarshal.GetArrayDataReference(_lanes[5]),
                 c6 = ref MemoryMarshal.GetArrayDataReference(_lanes[6]), c7 = ref MemoryMarshal.GetArrayDataReference(_lanes[7]);
        ref ulong packed = ref MemoryMarshal.GetArrayDataReference(Packed);
        Vector128<ulong> s0 = default, s1 = default, s2 = default, s3 = default,
                         s4 = default, s5 = default, s6 = default, s7 = default;
        int d = 0;
        for (; d + 16 <= Packed.Length; d += 16)
        {
            nuint at = (nuint)d;
            var a0 = Vector128.LoadUnsafe(ref c0, at); var a1 = Vector128.LoadUnsafe(ref c1, at);
            var a2 = Vector128.LoadUnsafe(ref c2, at); var a3 = Vector128.LoadUnsafe(ref c3, at);
            var a4 = Vector128.LoadUnsafe(ref c4, at); var a5 = Vector128.LoadUnsafe(ref c5, at);
            var a6 = Vector128.LoadUnsafe(ref c6, at); var a7 = Vector128.LoadUnsafe(ref c7, at);
            s0 += Sse2.SumAbsoluteDifferences(a0, default).AsUInt64(); s1 += Sse2.SumAbsoluteDifferences(a1, default).AsUInt64();
            s2 += Sse2.SumAbsoluteDifferences(a2, default).AsUInt64(); s3 += Sse2.SumAbsoluteDifferences(a3, default).AsUInt64();
            s4 += Sse2.SumAbsoluteDifferences(a4, default).AsUInt64(); s5 += Sse2.SumAbsoluteDifferences(a5, default).AsUInt64();
            s6 += Sse2.SumAbsoluteDifferences(a6, default).AsUInt64(); s7 += Sse2.SumAbsoluteDifferences(a7, default).AsUInt64();

            // Byte pairs (lanes 0-1, 2-3, 4-5, 6-7) for rows 0-7 (Low) and 8-15 (High).
            var p01l = Sse2.UnpackLow(a0, a1).AsUInt16(); var p01h = Sse2.UnpackHigh(a0, a1).AsUInt16();
            var p23l = Sse2.UnpackLow(a2, a3).AsUInt16(); var p23h = Sse2.UnpackHigh(a2, a3).AsUInt16();
            var p45l = Sse2.UnpackLow(a4, a5).AsUInt16(); var p45h = Sse2.UnpackHigh(a4, a5).AsUInt16();
            var p67l = Sse2.UnpackLow(a6, a7).AsUInt16(); var p67h = Sse2.UnpackHigh(a6, a7).AsUInt16();
            // Lanes 0-3 and 4-7 as 32-bit groups, four rows per vector.
            Store(ref packed, at, Sse2.UnpackLow(p01l, p23l).AsUInt32(), Sse2.UnpackLow(p45l, p67l).AsUInt32());
            Store(ref packed, at + 4, Sse2.UnpackHigh(p01l, p23l).AsUInt32(), Sse2.UnpackHigh(p45l, p67l).AsUInt32());
            Store(ref packed, at + 8, Sse2.UnpackLow(p01h, p23h).AsUInt32(), Sse2.UnpackLow(p45h, p67h).AsUInt32());
            Store(ref packed, at + 12, Sse2.UnpackHigh(p01h, p23h).AsUInt32(), Sse2.UnpackHigh(p45h, p67h).AsUInt32());
        }
        ReadOnlySpan<Vector128<ulong>> laneSums = [s0, s1, s2, s3, s4, s5, s6, s7];
        for (int lane = 0; lane < laneSums.Length; lane++)
            sums[lane] += (long)(laneSums[lane].GetElement(0) + laneSums[lane].GetElement(1));
        return d;

        // Joins four rows of lanes 0-3 with the same rows of lanes 4-7 into four packed ulongs.
        static void Store(ref ulong packed, nuint at, Vector128<uint> low, Vector128<uint> high)
        {
            Sse2.UnpackLow(low, high).AsUInt64().StoreUnsafe(ref packed, at);
            Sse2.UnpackHigh(low, high).AsUInt64().StoreUnsafe(ref packed, at + 2);
        }
    }

    private readonly struct CountSink(byte[] counts) : StratifiedResampler.ISink
    {
        // Unchecked: Draw checked the length and every draw-space index is below it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int drawIndex) => ++Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(counts), drawIndex);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>
    /// Draws resample <paramref name="resample"/> into lane <paramref name="lane"/>. Returns false if a
    /// multiplicity passed 255 (probability below 1e-400 at any size; the caller then computes that
    /// resample the naive way).
    /// </summary>
    public bool Draw(StratifiedResampler resampler, int resample, int lane)
    {
        byte[] counts = _lanes[lane];
        if (resampler.Rows > counts.Length)
            throw new ArgumentException($"The resampler has {resampler.Rows} rows; these counts hold {counts.Length}.", nameof(resampler));
        var sink = new CountSink(counts);
        resampler.Draw(resample, ref sink);
        return !sink.Overflowed;
    }

    /// <summary>Interleaves the lanes into <see cref="Packed"/> and zeroes them for the next batch.</summary>
    public void Pack()
    {
        byte[] c0 = _lanes[0], c1 = _lanes[1], c2 = _lanes[2], c3 = _lanes[3],
               c4 = _lanes[4], c5 = _lanes[5], c6 = _lanes[6], c7 = _lanes[7];
        ulong[] packed = Packed;
        for (int d = 0; d < packed.Length; d++)
            packed[d] = c0[d] | (ulong)c1[d] << 8 | (ulong)c2[d] << 16 | (ulong)c3[d] << 24
                      | (ulong)c4[d] << 32 | (ulong)c5[d] << 40 | (ulong)c6[d] << 48 | (ulong)c7[d] << 56;
        foreach (byte[] lane in _lanes) Array.Clear(lane);
    }

    private struct CountSink(byte[] counts) : StratifiedResampler.ISink
    {
        public bool Overflowed;

        // Unchecked: Draw checked the length and every draw-space index is below it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int drawIndex)
            => Overflowed |= ++Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(counts), drawIndex) == 0;
    }
}

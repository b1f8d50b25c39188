using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CtBuild.Evaluation;

/// <summary>
/// Four interleaved xoshiro256** generators (Blackman &amp; Vigna) stepped together in one 256-bit vector,
/// giving eight 32-bit values per step. Its only fields are the four state vectors, so a local copy
/// lives in registers. Deterministic on every platform (System.Random with a seed is not
/// promised to keep its sequence across .NET versions), and four times the throughput of one stream,
/// which matters when a bootstrap needs a billion draws.
/// </summary>
internal struct Xoshiro256x4
{
    private Vector256<ulong> _s0, _s1, _s2, _s3;

    /// <summary>An independent sequence per (seed, stream) pair; the state is filled by SplitMix64.</summary>
    public Xoshiro256x4(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        _s0 = Vector256.Create(SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x));
        _s1 = Vector256.Create(SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x));
        _s2 = Vector256.Create(SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x));
        _s3 = Vector256.Create(SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x));
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits (one step; for test data, not hot loops).</summary>
    public double NextDouble() => (NextFour().GetElement(0) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Eight uniform 32-bit values: one step of the four generators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<uint> NextEight() => NextFour().AsUInt32();

    // One xoshiro256** step of all four generators: result = rotl(s1·5, 7)·9, multiplications as shifts
    // and adds because 256-bit vectors have no 64-bit multiply before AVX-512.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<ulong> NextFour()
    {
        Vector256<ulong> times5 = (_s1 << 2) + _s1;
        Vector256<ulong> rotated = (times5 << 7) | (times5 >>> 57);
        Vector256<ulong> result = (rotated << 3) + rotated;
        Vector256<ulong> t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = (_s3 << 45) | (_s3 >>> 19);
        return result;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

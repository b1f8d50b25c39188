using System.Runtime.CompilerServices;

namespace CtBuild.Evaluation;

/// <summary>
/// xoshiro256** (Blackman &amp; Vigna): fast, deterministic across platforms and .NET versions,
/// which System.Random's unseeded algorithm choice is not promised to be.
/// </summary>
internal struct Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>An independent stream per (seed, stream) pair, state filled by SplitMix64.</summary>
    public Xoshiro256(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, bound), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextBelow(int bound)
    {
        uint b = (uint)bound;
        ulong product = (NextUInt64() >> 32) * b;
        if ((uint)product < b)
        {
            uint threshold = (0u - b) % b;
            while ((uint)product < threshold)
                product = (NextUInt64() >> 32) * b;
        }
        return (int)(product >> 32);
    }

    /// <summary>
    /// Two uniform integers in [0, bound) from one 64-bit output (one per 32-bit half), which halves the
    /// generator's share of a bootstrap draw. A half that would be biased is redrawn with <see cref="NextBelow"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NextTwoBelow(int bound, out int first, out int second)
    {
        uint b = (uint)bound;
        ulong bits = NextUInt64();
        ulong high = (bits >> 32) * b, low = (bits & 0xFFFF_FFFFUL) * b;
        if ((uint)high < b || (uint)low < b)
        {
            uint threshold = (0u - b) % b;
            first = (uint)high < threshold ? NextBelow(bound) : (int)(high >> 32);
            second = (uint)low < threshold ? NextBelow(bound) : (int)(low >> 32);
            return;
        }
        first = (int)(high >> 32);
        second = (int)(low >> 32);
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

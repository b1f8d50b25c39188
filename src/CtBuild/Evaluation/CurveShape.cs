namespace CtBuild.Evaluation;

/// <summary>Downsamples a curve for reports while keeping its shape.</summary>
internal static class CurveShape
{
    /// <summary>
    /// Keeps at most <paramref name="maxPoints"/> points: the first, the last, and the first point to enter
    /// each of maxPoints − 2 equal slices of the curve's length. Spacing by length (not by index) keeps
    /// steep and flat stretches alike, where most thresholds bunch up in a few places.
    /// </summary>
    public static IReadOnlyList<T> Keep<T>(IReadOnlyList<T> points, Func<T, (double X, double Y)> xy, int maxPoints)
    {
        if (points.Count <= maxPoints) return points.ToArray();
        var length = new double[points.Count];
        var previous = xy(points[0]);
        for (int i = 1; i < points.Count; i++)
        {
            var current = xy(points[i]);
            length[i] = length[i - 1] + Math.Sqrt(Square(current.X - previous.X) + Square(current.Y - previous.Y));
            previous = current;
        }

        double total = length[^1];
        int slices = maxPoints - 1;
        var kept = new List<T>(maxPoints) { points[0] };
        long lastSlice = 0;
        for (int i = 1; i < points.Count - 1; i++)
        {
            // A curve of zero length (all points equal) falls back to even spacing by index.
            long slice = total > 0 ? (long)(length[i] / total * slices) : (long)((double)i / points.Count * slices);
            if (slice > lastSlice && slice < slices)
            {
                kept.Add(points[i]);
                lastSlice = slice;
            }
        }
        kept.Add(points[^1]);
        return kept;
    }

    private static double Square(double x) => x * x;
}

namespace CtBuild.Evaluation;

/// <summary>
/// The error function and the standard normal distribution, accurate to about 1e-14 relative.
/// erf uses its all-positive series (no cancellation) below |x| = 2; erfc uses its continued fraction
/// (modified Lentz) from there on, so small tail probabilities keep their relative accuracy.
/// </summary>
public static class NormalDistribution
{
    private const double SeriesLimit = 2.0;
    private const double InverseSqrtPi = 0.56418958354775628695; // 1/sqrt(pi)

    /// <summary>erf(x) = 2/sqrt(pi) * integral of exp(-t^2) from 0 to x.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return -Erf(-x);
        return x < SeriesLimit ? ErfSeries(x) : 1.0 - ErfcContinuedFraction(x);
    }

    /// <summary>erfc(x) = 1 - erf(x), without the loss of precision for large x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2.0 - Erfc(-x);
        return x < SeriesLimit ? 1.0 - ErfSeries(x) : ErfcContinuedFraction(x);
    }

    /// <summary>P(Z ≤ z) for a standard normal Z.</summary>
    public static double Cdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2.0));

    /// <summary>One-sided p-value of a z statistic for the alternative "greater": P(Z ≥ z).</summary>
    public static double UpperTailP(double z) => 0.5 * Erfc(z / Math.Sqrt(2.0));

    /// <summary>The z with P(Z ≤ z) = <paramref name="p"/>, by bisection on <see cref="Cdf"/> (to 1e-12 in z).</summary>
    public static double Quantile(double p)
    {
        if (!(p > 0 && p < 1)) return p == 0 ? double.NegativeInfinity : p == 1 ? double.PositiveInfinity : double.NaN;
        double lo = -40, hi = 40;
        while (hi - lo > 1e-12)
        {
            double mid = 0.5 * (lo + hi);
            if (Cdf(mid) < p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>Two-sided p-value of a z statistic: P(|Z| ≥ |z|).</summary>
    public static double TwoSidedP(double z) => Erfc(Math.Abs(z) / Math.Sqrt(2.0));

    // erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n (2x^2)^n x / (1*3*...*(2n+1)); every term is positive.
    private static double ErfSeries(double x)
    {
        double twoXSquared = 2.0 * x * x, term = x, sum = x;
        for (int n = 1; n < 200 && term > 1e-17 * sum; n++)
        {
            term *= twoXSquared / (2 * n + 1);
            sum += term;
        }
        return 2.0 * InverseSqrtPi * Math.Exp(-x * x) * sum;
    }

    // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), x > 0.
    private static double ErfcContinuedFraction(double x)
    {
        if (x > 27.3) return 0.0; // exp(-x^2) underflows
        const double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int k = 1; k < 1000; k++)
        {
            double a = 0.5 * k;
            d = x + a * d;
            d = Math.Abs(d) < tiny ? 1.0 / tiny : 1.0 / d;
            c = x + a / c;
            if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1.0) < 1e-16) break;
        }
        return Math.Exp(-x * x) * InverseSqrtPi / f;
    }
}

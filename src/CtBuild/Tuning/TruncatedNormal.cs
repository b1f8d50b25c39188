namespace CtBuild.Tuning;

/// <summary>Normal distribution functions and sampling from a normal truncated to [low, high].</summary>
internal static class TruncatedNormal
{
    internal static readonly double LogSqrt2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>Standard normal CDF.</summary>
    public static double Cdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>Inverse standard normal CDF (Acklam's rational approximation plus one Halley step: ~1e-15 relative error).</summary>
    public static double InverseCdf(double p)
    {
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        double x;
        if (p < 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p <= 1 - 0.02425)
        {
            double q = p - 0.5, r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        else
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        double e = Cdf(x) - p;
        double u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    /// <summary>Complementary error function (W. J. Cody's rational Chebyshev fit via Numerical Recipes' erfc, &lt;1.2e-7 relative error).</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /// <summary>Log density at <paramref name="x"/> of N(mu, sigma²) restricted to [low, high], given its mass there.</summary>
    public static double LogPdf(double x, double mu, double sigma, double logMass)
    {
        double z = (x - mu) / sigma;
        return -0.5 * z * z - LogSqrt2Pi - Math.Log(sigma) - logMass;
    }

    /// <summary>Log of the mass of N(mu, sigma²) on [low, high]; both ends in one tail are taken from that tail, so a narrow bin far from mu keeps its digits.</summary>
    public static double LogMass(double mu, double sigma, double low, double high)
    {
        double a = (low - mu) / sigma, b = (high - mu) / sigma;
        double mass = a > 0 ? 0.5 * (Erfc(a / Math.Sqrt(2)) - Erfc(b / Math.Sqrt(2)))
            : b < 0 ? 0.5 * (Erfc(-b / Math.Sqrt(2)) - Erfc(-a / Math.Sqrt(2)))
            : Cdf(b) - Cdf(a);
        return Math.Log(Math.Max(mass, 1e-300));
    }

    /// <summary>A draw of N(mu, sigma²) restricted to [low, high], by inverting the CDF.</summary>
    public static double Sample(double mu, double sigma, double low, double high, Random random)
    {
        double a = Cdf((low - mu) / sigma), b = Cdf((high - mu) / sigma);
        double x = mu + sigma * InverseCdf(a + random.NextDouble() * (b - a));
        return double.IsFinite(x) ? Math.Clamp(x, low, high) : low + random.NextDouble() * (high - low);
    }
}

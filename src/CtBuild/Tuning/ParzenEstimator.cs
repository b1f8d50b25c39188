namespace CtBuild.Tuning;

/// <summary>Settings shared by the Parzen estimators of one sampler.</summary>
/// <param name="PriorWeight">Weight of the prior kernel (a wide kernel over the whole range, or a uniform categorical).</param>
/// <param name="MagicClip">Optuna's bandwidth floor: kernels are at least (high − low) / min(100, 1 + kernels) wide.</param>
/// <param name="KernelWidthWeighting">
/// Score each kernel by its standardised density φ(z)/mass, without the 1/σ of a true density, as Optuna 3.1 to 3.4 did
/// (fixed in 3.5, optuna commit 206e719). A wide kernel then counts as much as a narrow one at its centre. Sampling is
/// the same either way.
/// </param>
/// <param name="NeighbourWidths">
/// Multivariate kernels as wide, in each dimension, as the larger gap to their sorted neighbours (Hyperopt's rule, as
/// univariate ones are), instead of Scott's rule 0.2·n^(−1/(d+4))·range. Optuna made this its multivariate rule in 2026
/// (optuna commit 180265b, with multivariate on by default).
/// </param>
/// <param name="PriorInWidths">
/// Count the prior's centre (the middle of the range) as a neighbour when setting the observed kernels' widths, as Optuna
/// 3.1 did; Optuna removed it (optuna commit c1267c3), so a kernel near the middle is not narrowed by a point nobody observed.
/// </param>
/// <remarks>The defaults are Optuna 5's (optuna/optuna master, 2026); <see cref="Optuna31"/> is Optuna 3.1's.</remarks>
public sealed record ParzenEstimatorParameters(double PriorWeight = 1.0, bool MagicClip = true, bool KernelWidthWeighting = false,
    bool NeighbourWidths = true, bool PriorInWidths = false)
{
    /// <summary>Optuna 3.1's estimators (Debian's python3-optuna): no 1/σ, Scott's widths for joint kernels, the prior's centre a neighbour.</summary>
    public static ParzenEstimatorParameters Optuna31 { get; } = new(KernelWidthWeighting: true, NeighbourWidths: false, PriorInWidths: true);
}

/// <summary>
/// A density estimate over observed internal values of one or more parameters: a weighted mixture with one kernel per
/// observation plus a prior kernel. Per dimension a kernel is a normal truncated to the distribution's internal range
/// (numeric parameters) or a smoothed one-hot vector (categoricals). This is Optuna's <c>_ParzenEstimator</c>, by default
/// as Optuna 5 has it: each kernel is as wide as the larger gap to its sorted neighbours (Hyperopt's rule), in each
/// dimension; multivariate, one kernel is a product over the dimensions, so the estimate keeps the correlations between
/// parameters (Optuna 3.1 gave joint kernels Scott's-rule width 0.2·n^(−1/(d+4))·range instead, see
/// <see cref="ParzenEstimatorParameters"/>). Stepped parameters (ints, quantised reals) are scored by the mass of their bin.
/// </summary>
internal sealed class ParzenEstimator
{
    private readonly Distribution[] _distributions;
    private readonly double[] _logWeights;
    private readonly double[][] _mus;            // [dimension][kernel], empty for categoricals
    private readonly double[][] _sigmas;
    private readonly double[][] _logNormalisers; // −log σ − log √(2π) − log mass, or −log mass for stepped dimensions
    private readonly double[][][] _categoryLogProbabilities; // [dimension][kernel][choice]
    private readonly double[] _terms;            // scratch for LogPdf, one slot per kernel

    /// <summary>A univariate estimator over one parameter.</summary>
    /// <param name="observations">Internal values, oldest first.</param>
    /// <param name="weights">One weight per observation (see <see cref="TpeSampler.DefaultWeights"/>).</param>
    public ParzenEstimator(Distribution distribution, IReadOnlyList<double> observations, IReadOnlyList<double> weights,
        ParzenEstimatorParameters parameters)
        : this([distribution], observations.Select(o => new[] { o }).ToArray(), weights, parameters, multivariate: false)
    {
    }

    /// <param name="observations">One row of internal values (one per distribution) per observation, oldest first.</param>
    /// <param name="multivariate">
    /// Whether this is multivariate TPE's estimator of a group of parameters (its kernels are joint over the dimensions
    /// given, one or more); it matters only without <see cref="ParzenEstimatorParameters.NeighbourWidths"/>, where such
    /// kernels get Optuna 3.1's Scott's-rule width.
    /// </param>
    public ParzenEstimator(IReadOnlyList<Distribution> distributions, IReadOnlyList<double[]> observations, IReadOnlyList<double> weights,
        ParzenEstimatorParameters parameters, bool multivariate)
    {
        _distributions = distributions.ToArray();
        int n = observations.Count, d = _distributions.Length, kernels = n + 1;
        var kernelWeights = weights.Append(parameters.PriorWeight).ToArray();
        double total = kernelWeights.Sum();
        _logWeights = kernelWeights.Select(w => Math.Log(w / total)).ToArray();
        _terms = new double[kernels];
        _mus = new double[d][];
        _sigmas = new double[d][];
        _logNormalisers = new double[d][];
        _categoryLogProbabilities = new double[d][][];
        // Optuna 3.1's joint width: SIGMA0_MAGNITUDE · max(n, 1)^(−1/(d + 4)), in units of the range.
        double sigma0 = 0.2 * Math.Pow(Math.Max(n, 1), -1.0 / (d + 4));

        for (int j = 0; j < d; j++)
        {
            var distribution = _distributions[j];
            if (distribution is CategoricalDistribution categorical)
            {
                // Each kernel spreads prior weight evenly over the choices and adds 1 at the observed choice; the prior kernel is uniform.
                int choices = categorical.Choices.Count;
                var table = new double[kernels][];
                for (int k = 0; k < kernels; k++)
                {
                    var row = Enumerable.Repeat(parameters.PriorWeight / kernels, choices).ToArray();
                    if (k < n) row[(int)observations[k][j]] += 1;
                    double sum = row.Sum();
                    table[k] = row.Select(v => Math.Log(v / sum)).ToArray();
                }
                _categoryLogProbabilities[j] = table;
                _mus[j] = _sigmas[j] = _logNormalisers[j] = [];
                continue;
            }
            double low = distribution.InternalLow, high = distribution.InternalHigh;
            var mus = observations.Select(o => o[j]).Append((low + high) / 2).ToArray();
            var widths = multivariate && !parameters.NeighbourWidths ? Enumerable.Repeat(sigma0 * (high - low), kernels).ToArray()
                : parameters.PriorInWidths ? HyperoptWidths(mus, low, high)
                : [.. HyperoptWidths(mus[..^1], low, high), 0]; // the prior's width is set below
            var sigmas = Clip(widths, low, high, parameters.MagicClip);
            sigmas[^1] = high - low;
            _mus[j] = mus;
            _sigmas[j] = sigmas;
            bool stepped = Step(distribution) is not null;
            bool scaled = !stepped && !parameters.KernelWidthWeighting;
            _logNormalisers[j] = mus.Select((mu, k) => (stepped ? 0 : -TruncatedNormal.LogSqrt2Pi) - (scaled ? Math.Log(sigmas[k]) : 0)
                - TruncatedNormal.LogMass(mu, sigmas[k], low, high)).ToArray();
            _categoryLogProbabilities[j] = [];
        }
    }

    /// <summary>The mixture weights, one per observation and the prior's last, summing to 1.</summary>
    internal IEnumerable<double> Weights => _logWeights.Select(Math.Exp);

    /// <summary>The kernel centres of numeric dimension <paramref name="dimension"/>, one per observation and the prior's last.</summary>
    internal IReadOnlyList<double> Mus(int dimension) => _mus[dimension];

    /// <summary>The kernel widths of numeric dimension <paramref name="dimension"/>, in the same order as <see cref="Mus"/>.</summary>
    internal IReadOnlyList<double> Sigmas(int dimension) => _sigmas[dimension];

    /// <summary>A draw from a one-parameter estimator, in internal form, snapped to the distribution's grid.</summary>
    public double Sample(Random random) => SampleVector(random)[0];

    /// <summary>A draw of every dimension from one kernel, in internal form, snapped to each distribution's grid.</summary>
    public double[] SampleVector(Random random)
    {
        int k = PickKernel(random);
        var x = new double[_distributions.Length];
        for (int j = 0; j < x.Length; j++)
        {
            var distribution = _distributions[j];
            if (distribution is CategoricalDistribution)
            {
                var probabilities = _categoryLogProbabilities[j][k];
                double u = random.NextDouble(), cumulative = 0;
                x[j] = probabilities.Length - 1;
                for (int c = 0; c < probabilities.Length; c++)
                    if ((cumulative += Math.Exp(probabilities[c])) >= u) { x[j] = c; break; }
                continue;
            }
            double v = TruncatedNormal.Sample(_mus[j][k], _sigmas[j][k], distribution.InternalLow, distribution.InternalHigh, random);
            x[j] = distribution.ToInternal(distribution.ToExternal(v));
        }
        return x;
    }

    /// <summary>Log density of a one-parameter estimator at internal value <paramref name="x"/>. Not thread-safe (reuses a buffer).</summary>
    public double LogPdf(double x) => LogPdf([x]);

    /// <summary>
    /// Log density (log probability for categoricals, log bin mass for stepped dimensions) at internal values
    /// <paramref name="x"/>, one per dimension. Not thread-safe (reuses a buffer).
    /// </summary>
    public double LogPdf(ReadOnlySpan<double> x)
    {
        var terms = _terms;
        Array.Copy(_logWeights, terms, terms.Length);
        for (int j = 0; j < _distributions.Length; j++)
        {
            var distribution = _distributions[j];
            if (distribution is CategoricalDistribution)
            {
                int c = (int)x[j];
                var table = _categoryLogProbabilities[j];
                for (int k = 0; k < terms.Length; k++) terms[k] += table[k][c];
                continue;
            }
            var mus = _mus[j];
            var sigmas = _sigmas[j];
            var normalisers = _logNormalisers[j];
            if (Step(distribution) is { } q)
            {
                double lower = Math.Max(x[j] - q / 2, distribution.InternalLow), upper = Math.Min(x[j] + q / 2, distribution.InternalHigh);
                for (int k = 0; k < terms.Length; k++)
                    terms[k] += normalisers[k] + TruncatedNormal.LogMass(mus[k], sigmas[k], lower, upper);
                continue;
            }
            for (int k = 0; k < terms.Length; k++)
            {
                double z = (x[j] - mus[k]) / sigmas[k];
                terms[k] += normalisers[k] - 0.5 * z * z;
            }
        }
        return LogSumExp(terms);
    }

    /// <summary>The bin width of a stepped parameter in internal units (ints, quantised reals on a linear scale); null otherwise.</summary>
    private static double? Step(Distribution distribution) => distribution switch
    {
        IntDistribution i => i.Step,
        FloatDistribution { Log: false, Step: { } q } => q,
        _ => null,
    };

    private int PickKernel(Random random)
    {
        double u = random.NextDouble(), cumulative = 0;
        for (int k = 0; k < _logWeights.Length; k++)
            if ((cumulative += Math.Exp(_logWeights[k])) >= u) return k;
        return _logWeights.Length - 1;
    }

    // Hyperopt's rule as Optuna keeps it: each kernel is as wide as the larger gap to its sorted neighbours
    // (range ends count as neighbours, except for the outermost kernels).
    private static double[] HyperoptWidths(double[] mus, double low, double high)
    {
        int n = mus.Length;
        var order = Enumerable.Range(0, n).OrderBy(i => mus[i]).ToArray();
        var sorted = new double[n + 2];
        sorted[0] = low;
        sorted[^1] = high;
        for (int i = 0; i < n; i++) sorted[i + 1] = mus[order[i]];
        var sortedSigmas = new double[n];
        for (int i = 0; i < n; i++)
            sortedSigmas[i] = Math.Max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
        if (n >= 2)
        {
            sortedSigmas[0] = sorted[2] - sorted[1];
            sortedSigmas[^1] = sorted[^2] - sorted[^3];
        }
        var sigmas = new double[n];
        for (int i = 0; i < n; i++) sigmas[order[i]] = sortedSigmas[i];
        return sigmas;
    }

    // Clipped to [minSigma, high − low]; Optuna's magic clip makes minSigma (high − low) / min(100, 1 + kernels).
    private static double[] Clip(double[] sigmas, double low, double high, bool magicClip)
    {
        double range = high - low;
        double minSigma = magicClip ? range / Math.Min(100.0, 1.0 + sigmas.Length) : 1e-12;
        for (int i = 0; i < sigmas.Length; i++) sigmas[i] = Math.Clamp(sigmas[i], minSigma, range);
        return sigmas;
    }

    private static double LogSumExp(double[] terms)
    {
        double max = double.NegativeInfinity;
        foreach (var t in terms) max = Math.Max(max, t);
        if (double.IsNegativeInfinity(max)) return max;
        // A term 45 below the largest adds less than e^−45 ≈ 3e−20 each: below double precision even summed over
        // thousands of kernels, so skipping its exp changes nothing. After many trials most narrow kernels are that far from x.
        double sum = 0;
        foreach (var t in terms)
        {
            double d = t - max;
            if (d > -45) sum += Math.Exp(d);
        }
        return max + Math.Log(sum);
    }
}

namespace CtBuild.Tuning;

/// <summary>Settings shared by the Parzen estimators of one sampler.</summary>
/// <param name="PriorWeight">Weight of the prior kernel (a wide kernel over the whole range, or a uniform categorical).</param>
/// <param name="MagicClip">Optuna's bandwidth floor: kernels are at least (high − low) / min(100, 1 + kernels) wide.</param>
public sealed record ParzenEstimatorParameters(double PriorWeight = 1.0, bool MagicClip = true);

/// <summary>
/// A one-dimensional density estimate over observed internal values: a mixture of normals truncated to the
/// distribution's internal range (numeric parameters) or of smoothed one-hot vectors (categoricals), plus a prior
/// component. This is Optuna's univariate TPE estimator.
/// </summary>
internal sealed class ParzenEstimator
{
    private readonly Distribution _distribution;
    private readonly double[] _logWeights;
    private readonly double[] _mus = [];
    private readonly double[] _sigmas = [];
    private readonly double[] _logNormalisers = []; // log weight − log σ − log √(2π) − log mass, per kernel
    private readonly double[][] _categoryLogProbabilities = [];
    private readonly double[] _terms; // scratch for LogPdf, one slot per kernel

    /// <param name="observations">Internal values, oldest first.</param>
    /// <param name="weights">One weight per observation (see <see cref="TpeSampler.DefaultWeights"/>).</param>
    public ParzenEstimator(Distribution distribution, IReadOnlyList<double> observations, IReadOnlyList<double> weights,
        ParzenEstimatorParameters parameters)
    {
        _distribution = distribution;
        var kernelWeights = weights.Append(parameters.PriorWeight).ToArray();
        double total = kernelWeights.Sum();
        _logWeights = kernelWeights.Select(w => Math.Log(w / total)).ToArray();
        _terms = new double[_logWeights.Length];

        if (distribution is CategoricalDistribution categorical)
        {
            // Each kernel spreads prior weight evenly over the choices and adds 1 at the observed choice; the prior kernel is uniform.
            int n = categorical.Choices.Count, kernels = observations.Count + 1;
            _categoryLogProbabilities = new double[kernels][];
            for (int k = 0; k < kernels; k++)
            {
                var row = Enumerable.Repeat(parameters.PriorWeight / kernels, n).ToArray();
                if (k < observations.Count) row[(int)observations[k]] += 1;
                double sum = row.Sum();
                _categoryLogProbabilities[k] = row.Select(v => Math.Log(v / sum)).ToArray();
            }
            return;
        }

        double low = distribution.InternalLow, high = distribution.InternalHigh;
        _mus = observations.Append((low + high) / 2).ToArray();
        _sigmas = Bandwidths(_mus, low, high, parameters.MagicClip);
        _sigmas[^1] = high - low;
        _logNormalisers = _mus.Select((mu, k) =>
            _logWeights[k] + TruncatedNormal.LogPdf(mu, mu, _sigmas[k], TruncatedNormal.LogMass(mu, _sigmas[k], low, high))).ToArray();
    }

    /// <summary>A draw from the mixture, in internal form, snapped to the distribution's grid.</summary>
    public double Sample(Random random)
    {
        int k = PickKernel(random);
        if (_distribution is CategoricalDistribution)
        {
            var probabilities = _categoryLogProbabilities[k];
            double u = random.NextDouble(), cumulative = 0;
            for (int c = 0; c < probabilities.Length; c++)
                if ((cumulative += Math.Exp(probabilities[c])) >= u) return c;
            return probabilities.Length - 1;
        }
        double x = TruncatedNormal.Sample(_mus[k], _sigmas[k], _distribution.InternalLow, _distribution.InternalHigh, random);
        return _distribution.ToInternal(_distribution.ToExternal(x));
    }

    /// <summary>Log density (log probability for categoricals) at internal value <paramref name="x"/>. Not thread-safe (reuses a buffer).</summary>
    public double LogPdf(double x)
    {
        var terms = _terms;
        if (_distribution is CategoricalDistribution)
        {
            int c = (int)x;
            for (int k = 0; k < terms.Length; k++) terms[k] = _logWeights[k] + _categoryLogProbabilities[k][c];
        }
        else
        {
            for (int k = 0; k < terms.Length; k++)
            {
                double z = (x - _mus[k]) / _sigmas[k];
                terms[k] = _logNormalisers[k] - 0.5 * z * z;
            }
        }
        return LogSumExp(terms);
    }

    private int PickKernel(Random random)
    {
        double u = random.NextDouble(), cumulative = 0;
        for (int k = 0; k < _logWeights.Length; k++)
            if ((cumulative += Math.Exp(_logWeights[k])) >= u) return k;
        return _logWeights.Length - 1;
    }

    // Hyperopt's rule as Optuna keeps it: each kernel is as wide as the larger gap to its sorted neighbours
    // (range ends count as neighbours, except for the outermost kernels), clipped to [minSigma, high − low].
    private static double[] Bandwidths(double[] mus, double low, double high, bool magicClip)
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
        double range = high - low;
        double minSigma = magicClip ? range / Math.Min(100.0, 1.0 + n) : 1e-12;
        var sigmas = new double[n];
        for (int i = 0; i < n; i++) sigmas[order[i]] = Math.Clamp(sortedSigmas[i], minSigma, range);
        return sigmas;
    }

    private static double LogSumExp(double[] terms)
    {
        double max = double.NegativeInfinity;
        foreach (var t in terms) max = Math.Max(max, t);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (var t in terms) sum += Math.Exp(t - max);
        return max + Math.Log(sum);
    }
}

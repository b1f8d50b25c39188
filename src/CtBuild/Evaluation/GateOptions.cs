namespace CtBuild.Evaluation;

/// <summary>How the evaluation gate decides whether a candidate replaces the champion.</summary>
/// <param name="BootstrapRatio">Fraction of paired resamples the candidate must win (strictly higher AUC).</param>
/// <param name="Resamples">Number of paired, stratified bootstrap resamples.</param>
/// <param name="Seed">Seed of the resamples; the same seed gives the same decision.</param>
/// <param name="MinAuc">AUC floor applied only when there is no champion (or it cannot be scored).</param>
/// <param name="MinGain">If set, the lower end of the 95% ΔAUC interval must exceed it.</param>
/// <param name="Threshold">Score at or above which a row is called positive, for accuracy, precision, recall, F1.</param>
public sealed record GateOptions(
    double BootstrapRatio = 0.95,
    int Resamples = 1000,
    ulong Seed = 42,
    double MinAuc = 0.5,
    double? MinGain = null,
    double Threshold = 0.5)
{
    /// <summary>Throws <see cref="ConfigException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (!(BootstrapRatio > 0 && BootstrapRatio <= 1))
            throw new ConfigException($"Gate option BootstrapRatio is {BootstrapRatio}; it must be in (0, 1], e.g. 0.95.");
        if (Resamples < 1)
            throw new ConfigException($"Gate option Resamples is {Resamples}; it must be at least 1, e.g. 1000.");
        if (!(MinAuc >= 0 && MinAuc <= 1))
            throw new ConfigException($"Gate option MinAuc is {MinAuc}; it must be in [0, 1], e.g. 0.5.");
        if (MinGain is { } gain && !(gain > -1 && gain < 1))
            throw new ConfigException($"Gate option MinGain is {gain}; it must be in (-1, 1), e.g. 0.001, or unset.");
        if (double.IsNaN(Threshold))
            throw new ConfigException("Gate option Threshold is NaN; set a probability such as 0.5.");
    }
}

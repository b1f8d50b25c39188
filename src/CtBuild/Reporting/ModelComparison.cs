namespace CtBuild.Reporting;

/// <summary>The candidate and the champion it was compared with, scored on the same test snapshot.</summary>
/// <param name="Champion">Null on a first run.</param>
public sealed record ModelComparison(ModelEvaluation Candidate, ModelEvaluation? Champion);

/// <summary>One model's test metrics and curves.</summary>
/// <param name="Label">How the report names it, e.g. "candidate" or "champion v3".</param>
/// <param name="Threshold">The decision threshold behind accuracy, F1, precision, recall and the confusion matrix.</param>
public sealed record ModelEvaluation(
    string Label,
    double Auc,
    double LogLoss,
    double Accuracy,
    double F1,
    double Precision,
    double Recall,
    double Threshold,
    ConfusionMatrix Confusion,
    IReadOnlyList<RocPoint> Roc,
    IReadOnlyList<PrPoint> PrCurve,
    IReadOnlyList<CalibrationBin> Calibration);

/// <summary>Counts at the decision threshold.</summary>
public sealed record ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives);

/// <summary>A point on the ROC curve.</summary>
public sealed record RocPoint(double Fpr, double Tpr);

/// <summary>A point on the precision-recall curve.</summary>
public sealed record PrPoint(double Recall, double Precision);

/// <summary>One calibration bin: mean predicted probability vs observed positive rate.</summary>
public sealed record CalibrationBin(double MeanPredicted, double ObservedRate, long Count);

/// <summary>The paired bootstrap of AUC, candidate minus champion.</summary>
/// <param name="DeltaAuc">ΔAUC of each resample.</param>
/// <param name="CiLow">Lower end of the confidence interval of ΔAUC.</param>
/// <param name="WinRatio">Share of resamples with ΔAUC &gt; 0.</param>
/// <param name="WinThreshold">The win ratio needed to promote.</param>
public sealed record BootstrapSummary(
    IReadOnlyList<double> DeltaAuc, double CiLow, double CiHigh, double WinRatio, double WinThreshold, int Resamples);

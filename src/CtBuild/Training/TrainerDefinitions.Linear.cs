using Microsoft.ML;
using Microsoft.ML.Trainers;
using static CtBuild.Training.TrainerParameter;

namespace CtBuild.Training;

/// <summary>Linear trainers: fast, need normalised features, weights readable as importances.</summary>
internal static class LinearTrainers
{
    public static readonly TrainerSpec SdcaLogisticRegression = new(
        "SdcaLogisticRegression",
        "Logistic regression by stochastic dual coordinate ascent, with L1 and L2 penalties; calibrated.",
        [
            Real("l2Regularization", 0, 10, null, "L2 penalty; absent = chosen by ML.NET from the data."),
            Real("l1Regularization", 0, 10, null, "L1 penalty (soft threshold); absent = chosen by ML.NET from the data."),
            Integer("maximumNumberOfIterations", 1, 10_000, 30, "Passes over the data; bounded by default so big data cannot stall a trial.") with { CostGrows = true },
            Real("convergenceTolerance", 1e-8, 1, 0.1, "Stop when the duality gap falls below this."),
            Real("biasLearningRate", 0, 1, 0, "Learning rate of the bias; 0 = automatic."),
        ],
        """{ "l2Regularization": "loguniform(1e-6, 1)", "l1Regularization": "loguniform(1e-6, 1)" }""",
        (ml, p, label, features) => ml.BinaryClassification.Trainers.SdcaLogisticRegression(
            new SdcaLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = features,
                NumberOfThreads = p.Threads,
                L2Regularization = p.Single("l2Regularization"),
                L1Regularization = p.Single("l1Regularization"),
                MaximumNumberOfIterations = p.Int("maximumNumberOfIterations"),
                ConvergenceTolerance = p.Single("convergenceTolerance")!.Value,
                BiasLearningRate = p.Single("biasLearningRate")!.Value,
            }),
        new Dictionary<string, string> { ["l1_ratio"] = "sklearn's l1_ratio has no ratio form here; tune l1Regularization ≈ alpha·l1_ratio" });

    public static readonly TrainerSpec LbfgsLogisticRegression = new(
        "LbfgsLogisticRegression",
        "Logistic regression by L-BFGS (OWL-QN with L1), deterministic; calibrated.",
        [
            Real("l2Regularization", 0, 100, 1, "L2 penalty weight."),
            Real("l1Regularization", 0, 100, 1, "L1 penalty weight."),
            Real("optimizationTolerance", 1e-12, 1, 1e-7, "Stop when the relative improvement falls below this."),
            Integer("historySize", 1, 100, 20, "Memory of L-BFGS: past gradients kept to estimate the Hessian."),
            Integer("maximumNumberOfIterations", 1, int.MaxValue, 200, "Iteration cap; bounded by default so big data cannot stall a trial.") with { CostGrows = true },
            Flag("enforceNonNegativity", false, "Constrain all weights to be ≥ 0."),
        ],
        """{ "l2Regularization": "loguniform(1e-4, 10)", "l1Regularization": "loguniform(1e-4, 10)" }""",
        (ml, p, label, features) => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(
            new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = features,
                NumberOfThreads = p.Threads,
                L2Regularization = p.Single("l2Regularization")!.Value,
                L1Regularization = p.Single("l1Regularization")!.Value,
                OptimizationTolerance = p.Single("optimizationTolerance")!.Value,
                HistorySize = p.Int("historySize")!.Value,
                MaximumNumberOfIterations = p.Int("maximumNumberOfIterations")!.Value,
                EnforceNonNegativity = p.Flag("enforceNonNegativity"),
            }));

    public static readonly TrainerSpec SgdCalibrated = new(
        "SgdCalibrated",
        "Logistic regression by parallel stochastic gradient descent (Hogwild), L2 only; calibrated. "
        + "sklearn SGDClassifier: alpha → l2Regularization, max_iter → numberOfIterations.",
        [
            Real("l2Regularization", 0, 1, 1e-6, "L2 penalty (sklearn's alpha)."),
            Integer("numberOfIterations", 1, 10_000, 20, "Passes over the data (sklearn's max_iter).") with { CostGrows = true },
            Real("learningRate", 1e-6, 10, 0.01, "Initial learning rate."),
            Real("convergenceTolerance", 0, 1, 1e-4, "Stop when the relative loss change falls below this."),
            Real("positiveInstanceWeight", 1e-3, 1e3, 1, "Weight of positive examples, for imbalanced labels."),
            Flag("shuffle", true, "Shuffle the data each pass."),
        ],
        """{ "l2Regularization": "loguniform(1e-7, 1e-2)", "numberOfIterations": "int(10, 200, 10)", "learningRate": "loguniform(0.001, 0.1)" }""",
        (ml, p, label, features) => ml.BinaryClassification.Trainers.SgdCalibrated(
            new SgdCalibratedTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = features,
                NumberOfThreads = p.Threads,
                L2Regularization = p.Single("l2Regularization")!.Value,
                NumberOfIterations = p.Int("numberOfIterations")!.Value,
                LearningRate = p.Real("learningRate")!.Value,
                ConvergenceTolerance = p.Real("convergenceTolerance")!.Value,
                PositiveInstanceWeight = p.Single("positiveInstanceWeight")!.Value,
                Shuffle = p.Flag("shuffle"),
            }),
        new Dictionary<string, string>
        {
            ["alpha"] = "sklearn's alpha is l2Regularization",
            ["max_iter"] = "sklearn's max_iter is numberOfIterations",
            ["l1_ratio"] = "ML.NET's SGD has no L1 term; use SdcaLogisticRegression with l1Regularization for an L1 part",
        });
}

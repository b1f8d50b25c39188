using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using static CtBuild.Training.TrainerParameter;

namespace CtBuild.Training;

/// <summary>Tree ensembles: no normalisation needed, split gains readable as importances.</summary>
internal static class TreeTrainers
{
    // FastTree and FastForest share ML.NET's tree-shape options and their defaults.
    private static readonly TrainerParameter[] TreeShape =
    [
        Integer("numberOfLeaves", 2, 1024, 20, "Maximum leaves per tree.") with { CostGrows = true },
        Integer("numberOfTrees", 1, 5000, 100, "Trees in the ensemble.") with { CostGrows = true },
        Integer("minimumExampleCountPerLeaf", 1, 10_000, 10, "Fewest training rows a leaf may hold."),
    ];

    public static readonly TrainerSpec FastTree = new(
        "FastTree",
        "Gradient-boosted trees (MART); calibrated.",
        [
            .. TreeShape,
            Real("learningRate", 1e-4, 1, 0.2, "Shrinkage applied to each tree."),
            Real("featureFraction", 0.01, 1, 1, "Fraction of features considered per tree."),
        ],
        """{ "numberOfLeaves": "int(4, 64)", "numberOfTrees": "int(50, 400, 25)", "minimumExampleCountPerLeaf": "int(2, 50)", "learningRate": "loguniform(0.02, 0.4)" }""",
        (ml, p, label, features) => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            LabelColumnName = label,
            FeatureColumnName = features,
            NumberOfThreads = p.Threads,
            NumberOfLeaves = p.Int("numberOfLeaves")!.Value,
            NumberOfTrees = p.Int("numberOfTrees")!.Value,
            MinimumExampleCountPerLeaf = p.Int("minimumExampleCountPerLeaf")!.Value,
            LearningRate = p.Real("learningRate")!.Value,
            FeatureFraction = p.Real("featureFraction")!.Value,
        }));

    // FastForest's score is an uncalibrated vote, so Platt scaling is appended to give Probability.
    public static readonly TrainerSpec FastForest = new(
        "FastForest",
        "Random forest of regression trees; Platt-calibrated on the training data.",
        [
            .. TreeShape,
            Real("featureFraction", 0.01, 1, 0.7, "Fraction of features considered per tree."),
            Real("baggingExampleFraction", 0.01, 1, 0.7, "Fraction of rows sampled per tree."),
        ],
        """{ "numberOfLeaves": "int(4, 64)", "numberOfTrees": "int(50, 300, 25)", "minimumExampleCountPerLeaf": "int(2, 50)", "featureFraction": "uniform(0.3, 1)" }""",
        (ml, p, label, features) => ml.BinaryClassification.Trainers.FastForest(new FastForestBinaryTrainer.Options
            {
                LabelColumnName = label,
                FeatureColumnName = features,
                NumberOfThreads = p.Threads,
                NumberOfLeaves = p.Int("numberOfLeaves")!.Value,
                NumberOfTrees = p.Int("numberOfTrees")!.Value,
                MinimumExampleCountPerLeaf = p.Int("minimumExampleCountPerLeaf")!.Value,
                FeatureFraction = p.Real("featureFraction")!.Value,
                BaggingExampleFraction = p.Real("baggingExampleFraction")!.Value,
            })
            .Append(ml.BinaryClassification.Calibrators.Platt(labelColumnName: label)));

    public static readonly TrainerSpec LightGbm = new(
        "LightGbm",
        "Gradient-boosted trees by LightGBM (leaf-wise growth); calibrated.",
        [
            Integer("numberOfLeaves", 2, 1024, null, "Maximum leaves per tree; absent = chosen by ML.NET.") with { CostGrows = true },
            Integer("numberOfIterations", 1, 5000, 100, "Boosting rounds (trees).") with { CostGrows = true },
            Real("learningRate", 1e-4, 1, null, "Shrinkage applied to each tree; absent = chosen by ML.NET."),
            Integer("minimumExampleCountPerLeaf", 1, 10_000, null, "Fewest training rows a leaf may hold; absent = chosen by ML.NET."),
            Real("l2Regularization", 0, 100, 0.01, "L2 penalty on leaf values."),
            Real("l1Regularization", 0, 100, 0, "L1 penalty on leaf values."),
            Real("featureFraction", 0.01, 1, 1, "Fraction of features considered per tree."),
        ],
        """{ "numberOfLeaves": "int(8, 128)", "learningRate": "loguniform(0.01, 0.3)", "numberOfIterations": "int(50, 400, 25)", "minimumExampleCountPerLeaf": "int(5, 100)" }""",
        (ml, p, label, features) => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
        {
            LabelColumnName = label,
            FeatureColumnName = features,
            NumberOfThreads = p.Threads,
            NumberOfLeaves = p.Int("numberOfLeaves"),
            NumberOfIterations = p.Int("numberOfIterations")!.Value,
            LearningRate = p.Real("learningRate"),
            MinimumExampleCountPerLeaf = p.Int("minimumExampleCountPerLeaf"),
            Booster = new GradientBooster.Options
            {
                L2Regularization = p.Real("l2Regularization")!.Value,
                L1Regularization = p.Real("l1Regularization")!.Value,
                FeatureFraction = p.Real("featureFraction")!.Value,
            },
        }));
}

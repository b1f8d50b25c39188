using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace CtBuild.Training;

/// <summary>
/// Encoding derived from column types: numeric features get missing values replaced by the training mean,
/// categorical ones are one-hot encoded (a missing value is its own category), then everything is
/// concatenated into <c>Features</c> and scaled to [0, 1] (linear trainers need it; trees don't mind).
/// Fitted once per training set and shared by every trial.
/// </summary>
public static class Featurizer
{
    public const string FeaturesColumn = "Features";

    public static IEstimator<ITransformer> Build(MLContext ml, FeatureSignature signature)
    {
        var parts = new List<string>();
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        if (signature.Numeric.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues("NumericFilled", nameof(ModelInputRow.Numeric), MissingValueReplacingEstimator.ReplacementMode.Mean));
            parts.Add("NumericFilled");
        }
        if (signature.Categorical.Count > 0)
        {
            pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding("CategoricalOneHot", nameof(ModelInputRow.Categorical), maximumNumberOfKeys: 200));
            parts.Add("CategoricalOneHot");
        }
        return pipeline
            .Append(ml.Transforms.Concatenate(FeaturesColumn, parts.ToArray()))
            .Append(ml.Transforms.NormalizeMinMax(FeaturesColumn));
    }
}

using Microsoft.ML;
using System.Reflection;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;

namespace CtBuild.Training;

/// <summary>A feature and how much the model relies on it (larger = more).</summary>
public sealed record FeatureImportance(string Name, double Importance);

/// <summary>Reads feature importances from fitted models whose trainer gives them.</summary>
public static class TrainerFeatureImportance
{
    /// <summary>
    /// Importances for the trainer at the end of <paramref name="model"/> (a calibrator after it is skipped),
    /// sorted from most to least important: absolute weights for linear models, split gains for tree ensembles.
    /// Null when the model has no such notion. <paramref name="slotNames"/> names the slots of the features vector.
    /// </summary>
    /// <exception cref="ArgumentException">The number of slot names differs from the model's feature count.</exception>
    public static IReadOnlyList<FeatureImportance>? Compute(ITransformer model, IReadOnlyList<string> slotNames)
    {
        var weights = FindWeights(model);
        if (weights is null) return null;
        if (weights.Count != slotNames.Count)
            throw new ArgumentException(
                $"The model has {weights.Count} feature weights but {slotNames.Count} slot names were given; pass the slot names of the features column the model was trained on.",
                nameof(slotNames));
        return weights.Select((w, i) => new FeatureImportance(slotNames[i], Math.Abs(w)))
            .OrderByDescending(f => f.Importance)
            .ToArray();
    }

    // The last transformer with weights: a chain ending in a calibrator (FastForest + Platt) yields the trainer before it.
    private static IReadOnlyList<float>? FindWeights(ITransformer model) => model switch
    {
        IEnumerable<ITransformer> chain => chain.Reverse().Select(FindWeights).FirstOrDefault(w => w is not null),
        IPredictionTransformer<object> prediction => Weights(prediction.Model),
        _ => null,
    };

    private static IReadOnlyList<float>? Weights(object? predictor)
    {
        switch (predictor)
        {
            case LinearModelParameters linear:
                return linear.Weights;
            case TreeEnsembleModelParameters trees:
                var buffer = default(VBuffer<float>);
                trees.GetFeatureWeights(ref buffer);
                return buffer.DenseValues().ToArray();
            case CalibratedModelParametersBase calibrated:
                return Weights(SubModel(calibrated));
            default:
                return null;
        }
    }

    // ML.NET exposes the wrapped model only on the generic CalibratedModelParametersBase<TSubModel, TCalibrator>
    // (its feature-weights interface is internal), so read SubModel from that base type.
    private static object? SubModel(CalibratedModelParametersBase calibrated)
    {
        for (var type = calibrated.GetType(); type is not null; type = type.BaseType)
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(CalibratedModelParametersBase<,>))
                return type.GetProperty("SubModel", BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)?.GetValue(calibrated);
        return null;
    }
}

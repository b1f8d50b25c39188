using System.Diagnostics.CodeAnalysis;
using Microsoft.ML;

namespace CtBuild.Training;

/// <summary>
/// The binary-classification trainers CtBuild can tune, by name. Parameter names are camelCase versions of the
/// ML.NET option names (<c>numberOfLeaves</c> for <c>NumberOfLeaves</c>).
/// </summary>
/// <remarks>
/// The seed project's space was sklearn's SGDClassifier: <c>alpha uniform(0, 1e-4)</c>, <c>max_iter quniform(50, 1000, 50)</c>,
/// <c>l1_ratio uniform(0.1, 0.3)</c> (elastic net). Its closest ML.NET form is <c>SgdCalibrated</c> with
/// <c>l2Regularization: uniform(0, 1e-4)</c> (alpha) and <c>numberOfIterations: quniform(50, 1000, 50)</c> (max_iter).
/// ML.NET's SGD has no L1 term, so l1_ratio cannot be expressed there; the honest nearest option for an L1 part is
/// <c>SdcaLogisticRegression</c>, which has separate <c>l1Regularization</c> and <c>l2Regularization</c>: sklearn's
/// penalty alpha·(l1_ratio·L1 + (1−l1_ratio)·L2) becomes l1 ≈ alpha·l1_ratio ∈ [0, 3e-5] and l2 ≈ alpha·(1−l1_ratio)
/// ∈ [0, 1e-4], tuned independently rather than through one ratio.
/// </remarks>
public static class TrainerCatalog
{
    private static readonly IReadOnlyList<TrainerSpec> All =
    [
        LinearTrainers.SdcaLogisticRegression,
        LinearTrainers.LbfgsLogisticRegression,
        LinearTrainers.SgdCalibrated,
        TreeTrainers.FastTree,
        TreeTrainers.FastForest,
        TreeTrainers.LightGbm,
    ];

    /// <summary>The trainer names, in catalog order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToArray();

    /// <summary>The trainers, in catalog order.</summary>
    public static IReadOnlyList<TrainerSpec> Trainers => All;

    /// <summary>Finds a trainer by exact name.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out TrainerSpec? trainer)
    {
        trainer = All.FirstOrDefault(t => t.Name == name);
        return trainer is not null;
    }

    /// <summary>The trainer called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such trainer; the message lists the known names.</exception>
    public static TrainerSpec Get(string name) => TryGet(name, out var trainer)
        ? trainer
        : throw new ArgumentException($"Unknown trainer '{name}'; known trainers: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>
    /// Builds the estimator for one tuning trial: the trainer is <c>parameters["trainer"]</c>, every other entry is
    /// one of its parameters. When the space has other top-level parameters too, pick the trainer's with
    /// <see cref="Tuning.SearchSpace.BranchValues"/> and call <see cref="TrainerSpec.Create"/>.
    /// </summary>
    public static IEstimator<ITransformer> Create(MLContext ml, IReadOnlyDictionary<string, object> parameters,
        string labelColumn = "Label", string featuresColumn = "Features", int? threads = null)
    {
        if (!parameters.TryGetValue(Tuning.SearchSpaceParser.TrainerKey, out var name) || name is not string trainer)
            throw new ArgumentException($"The trial parameters have no '{Tuning.SearchSpaceParser.TrainerKey}' name; "
                + $"add \"trainer\" to the search space (known trainers: {string.Join(", ", Names)}).", nameof(parameters));
        var rest = parameters.Where(p => p.Key != Tuning.SearchSpaceParser.TrainerKey).ToDictionary(p => p.Key, p => p.Value);
        return Get(trainer).Create(ml, rest, labelColumn, featuresColumn, threads);
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;

namespace CtBuild.Training;

/// <summary>
/// Trains one trial's trainer on featurised, cached training data and scores the validation split.
/// The featurizer is fitted once on the training split; every trial reuses its output. For successive halving, the
/// trainer also holds the training rows of each smaller rung (cached like the whole split); every rung is scored on
/// the whole validation split.
/// </summary>
public sealed class TrialTrainer
{
    readonly IDataView _train;
    readonly IDataView _valid;
    readonly IReadOnlyList<IDataView> _rungs;
    readonly ModelInput _trainInput;
    readonly ModelInput _validInput;

    public ITransformer Featurizer { get; }
    public DataViewSchema InputSchema { get; }
    public IReadOnlyList<string> SlotNames { get; }

    /// <param name="rungRows">For successive halving, the training-row indices of each rung but the last (which is all rows).</param>
    public TrialTrainer(ModelInput train, ModelInput valid, int seed, IReadOnlyList<int[]>? rungRows = null)
    {
        _trainInput = train;
        _validInput = valid;
        var ml = new MLContext(seed);
        var trainView = train.ToDataView(ml);
        InputSchema = trainView.Schema;
        Featurizer = CtBuild.Training.Featurizer.Build(ml, train.Signature).Fit(trainView);
        // Cache and touch once, so parallel trials read memory instead of re-running the featurizer.
        _train = ml.Data.Cache(Featurizer.Transform(trainView));
        _valid = ml.Data.Cache(Featurizer.Transform(valid.ToDataView(ml)));
        SlotNames = ReadSlotNames(_train.Schema, train.Signature);
        // The featurizer stays the one fitted on all rows: a rung changes only which rows the trainer learns from.
        _rungs = (rungRows ?? []).Select(rows => ml.Data.Cache(Featurizer.Transform(
            new ModelInput(rows.Select(i => train.Rows[i]).ToArray(), train.Signature).ToDataView(ml)))).ToArray();
        RungRowCounts = (rungRows ?? []).Select(r => r.Length).Append(train.Rows.Count).ToArray();
    }

    /// <summary>Training rows per rung, the last being the whole split (one entry without rungs).</summary>
    public IReadOnlyList<int> RungRowCounts { get; }

    // MLContext implements ML.NET's internal ICancelable (trainers call CheckAlive between iterations and throw once it
    // is cancelled); the interface is not public, so it is reached by name. Null if a later ML.NET drops it.
    static readonly System.Reflection.MethodInfo? CancelExecution =
        typeof(MLContext).GetInterface("Microsoft.ML.Runtime.ICancelable")?.GetMethod("CancelExecution");

    /// <summary>The schema trainers see (after the featurizer): what a saved trainer model is loaded against.</summary>
    public DataViewSchema FeaturizedSchema => _train.Schema;

    /// <summary>
    /// Fits the trainer built by <paramref name="build"/> and returns it with its validation AUC and log-loss.
    /// Cancelling <paramref name="cancellation"/> stops ML.NET at its next check (between iterations) with an
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public (ITransformer Model, double Auc, double LogLoss) Fit(Func<MLContext, IEstimator<ITransformer>> build, int seed,
        CancellationToken cancellation = default) => Fit(build, seed, null, cancellation);

    /// <summary>As <see cref="Fit(Func{MLContext, IEstimator{ITransformer}}, int, CancellationToken)"/> on the rows of
    /// successive-halving rung <paramref name="rung"/>; null or the last rung trains on all rows.</summary>
    public (ITransformer Model, double Auc, double LogLoss) Fit(Func<MLContext, IEstimator<ITransformer>> build, int seed, int? rung,
        CancellationToken cancellation = default)
    {
        var ml = new MLContext(seed);
        using var stop = cancellation.Register(() => CancelExecution?.Invoke(ml, null));
        var model = build(ml).Fit(rung is { } r && r < _rungs.Count ? _rungs[r] : _train);
        cancellation.ThrowIfCancellationRequested();
        var metrics = ml.BinaryClassification.Evaluate(model.Transform(_valid), labelColumnName: nameof(ModelInputRow.Label));
        return (model, metrics.AreaUnderRocCurve, metrics.LogLoss);
    }

    /// <summary>
    /// Fits the trainer built by <paramref name="build"/> on the train and valid rows together (train first), through
    /// the featurizer fitted on train, so the chain is the same shape as a trial's. Nothing is left to score it on but
    /// test, so it returns the model alone.
    /// </summary>
    public ITransformer FitOnTrainAndValid(Func<MLContext, IEstimator<ITransformer>> build, int seed)
    {
        var ml = new MLContext(seed);
        var rows = new ModelInput([.. _trainInput.Rows, .. _validInput.Rows], _trainInput.Signature);
        return build(ml).Fit(ml.Data.Cache(Featurizer.Transform(rows.ToDataView(ml))));
    }

    /// <summary>Rows the train and valid splits hold together: what <see cref="FitOnTrainAndValid"/> learns from.</summary>
    public int TrainAndValidRowCount => _trainInput.Rows.Count + _validInput.Rows.Count;

    /// <summary>The full model: featurizer then trainer, as one chain that scores raw <see cref="ModelInputRow"/>s.</summary>
    public ITransformer Chain(ITransformer trainerModel) => new TransformerChain<ITransformer>(Featurizer, trainerModel);

    /// <summary>Names of the Features slots: numeric columns by name, one-hot slots as "column=value".</summary>
    static IReadOnlyList<string> ReadSlotNames(DataViewSchema schema, FeatureSignature signature)
    {
        var column = schema[CtBuild.Training.Featurizer.FeaturesColumn];
        var size = column.Type is VectorDataViewType v ? v.Size : 1;
        var names = new List<string>(signature.Numeric);
        if (signature.Categorical.Count > 0 && schema.GetColumnOrNull("CategoricalOneHot") is { } oneHot && oneHot.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> slots = default;
            oneHot.GetSlotNames(ref slots);
            foreach (var s in slots.DenseValues())
            {
                var text = s.ToString(); // "[<slot index>].<value>" for a one-hot vector column
                var dot = text.IndexOf('.');
                var index = dot > 0 && int.TryParse(text[..dot].Trim('[', ']'), out var i) && i < signature.Categorical.Count ? i : -1;
                names.Add(index >= 0 ? $"{signature.Categorical[index]}={text[(dot + 1)..]}" : text);
            }
        }
        while (names.Count < size) names.Add($"f{names.Count}");
        return names.Take(size).ToList();
    }
}

/// <summary>Loads a saved model and scores rows with it.</summary>
public static class ModelScoring
{
    sealed class ScoreRow { public float Probability { get; set; } }

    /// <exception cref="ModelLoadException">The file is not a model ML.NET can load (damaged, or something else).</exception>
    public static ITransformer Load(MLContext ml, string path)
    {
        using var stream = File.OpenRead(path);
        return Load(ml, stream, path);
    }

    /// <summary>Loads a model from <paramref name="stream"/>; <paramref name="name"/> says which file it is in errors.</summary>
    /// <exception cref="ModelLoadException">The bytes are not a model ML.NET can load.</exception>
    public static ITransformer Load(MLContext ml, Stream stream, string name)
    {
        // ML.NET reports a damaged file as whatever failed inside it (a zip CRC, a class it cannot instantiate, …).
        try { return ml.Model.Load(stream, out _); }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new ModelLoadException(name, ex);
        }
    }

    public static double[] Score(ITransformer model, ModelInput input, int seed = 1)
    {
        var ml = new MLContext(seed);
        var scored = model.Transform(input.ToDataView(ml));
        return ml.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: false).Select(r => (double)r.Probability).ToArray();
    }

    public static void Save(ITransformer model, DataViewSchema inputSchema, string path)
    {
        var temp = path + $".{Environment.ProcessId}.tmp";
        new MLContext().Model.Save(model, inputSchema, temp);
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>A model file ML.NET cannot load: damaged, truncated inside, or not a model ML.NET saved.</summary>
public sealed class ModelLoadException(string file, Exception inner)
    : CtBuildException($"The model file {file} cannot be loaded as an ML.NET model ({inner.GetType().Name}: {inner.Message}). " +
                       "It is damaged or was not saved by ML.NET; retrain it, or restore it from where it came from.", 1, inner)
{
    public string File { get; } = file;
    /// <summary>What ML.NET said, in one line.</summary>
    public string Cause { get; } = $"{inner.GetType().Name}: {inner.Message}";
}

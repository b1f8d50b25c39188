using CtBuild.Training;
using CtBuild.Tuning;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CtBuild.Tests.Training;

public class TrainerCatalogTests
{
    private sealed class Row
    {
        public bool Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    // Separable up to noise: f1 matters most, f3 least.
    private static IDataView Synthetic(MLContext ml, int rows, int seed)
    {
        var random = new Random(seed);
        var data = Enumerable.Range(0, rows).Select(_ =>
        {
            var f = new[] { (float)random.NextDouble() * 2 - 1, (float)random.NextDouble() * 2 - 1, (float)random.NextDouble() * 2 - 1 };
            double noise = (random.NextDouble() - 0.5) * 0.4;
            return new Row { Features = f, Label = 2 * f[0] - f[1] + 0.3 * f[2] + noise > 0 };
        }).ToArray();
        return ml.Data.LoadFromEnumerable(data);
    }

    public static TheoryData<string> Names => new(TrainerCatalog.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_trainer_fits_a_separable_problem_with_calibrated_output_and_feature_importance(string name)
    {
        var ml = new MLContext(seed: 1);
        var trainer = TrainerCatalog.Get(name);
        var parameters = name switch
        {
            "FastTree" or "FastForest" => new Dictionary<string, object> { ["numberOfTrees"] = 30, ["minimumExampleCountPerLeaf"] = 5 },
            "LightGbm" => new Dictionary<string, object> { ["numberOfIterations"] = 30, ["minimumExampleCountPerLeaf"] = 5 },
            _ => new Dictionary<string, object>(),
        };

        var model = trainer.Create(ml, parameters).Fit(Synthetic(ml, 400, seed: 1));
        var scored = model.Transform(Synthetic(ml, 400, seed: 2));

        Assert.NotNull(scored.Schema.GetColumnOrNull("Score"));
        Assert.NotNull(scored.Schema.GetColumnOrNull("Probability"));
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Assert.True(metrics.AreaUnderRocCurve > 0.8, $"{name}: AUC {metrics.AreaUnderRocCurve:F3}");
        Assert.InRange(metrics.LogLoss, 0, 0.9);

        var importance = TrainerFeatureImportance.Compute(model, ["f1", "f2", "f3"]);
        Assert.NotNull(importance);
        Assert.Equal("f1", importance[0].Name);
        Assert.Equal(["f1", "f2", "f3"], importance.Select(f => f.Name).Order());
    }

    [Fact]
    public void Parameters_of_the_wrong_type_outside_their_range_or_unknown_are_refused()
    {
        var ml = new MLContext(seed: 1);
        var fastTree = TrainerCatalog.Get("FastTree");

        var range = Assert.Throws<ArgumentException>(() => fastTree.Create(ml, new Dictionary<string, object> { ["numberOfLeaves"] = 1 }));
        Assert.StartsWith("'numberOfLeaves' must be within [2, 1024], but got 1", range.Message);
        var notInteger = Assert.Throws<ArgumentException>(() => fastTree.Create(ml, new Dictionary<string, object> { ["numberOfTrees"] = 10.5 }));
        Assert.StartsWith("'numberOfTrees' must be an integer, but got 10.5", notInteger.Message);
        var type = Assert.Throws<ArgumentException>(() => fastTree.Create(ml, new Dictionary<string, object> { ["learningRate"] = "fast" }));
        Assert.StartsWith("'learningRate' must be a number, but got \"fast\"", type.Message);
        var unknown = Assert.Throws<ArgumentException>(() => fastTree.Create(ml, new Dictionary<string, object> { ["depth"] = 3 }));
        Assert.StartsWith("Unknown parameter 'depth' for trainer 'FastTree'; its parameters are: numberOfLeaves, numberOfTrees,", unknown.Message);
        var noTrainer = Assert.Throws<ArgumentException>(() => TrainerCatalog.Create(ml, new Dictionary<string, object> { ["numberOfLeaves"] = 4 }));
        Assert.StartsWith("The trial parameters have no 'trainer' name", noTrainer.Message);
        var badName = Assert.Throws<ArgumentException>(() => TrainerCatalog.Get("XgBoost"));
        Assert.StartsWith("Unknown trainer 'XgBoost'; known trainers: SdcaLogisticRegression, LbfgsLogisticRegression, SgdCalibrated, FastTree, FastForest, LightGbm.", badName.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Default_space_stays_within_the_parameter_ranges_and_its_samples_build(string name)
    {
        var trainer = TrainerCatalog.Get(name);
        Assert.NotEmpty(trainer.DefaultSpace.Nodes);
        foreach (var node in trainer.DefaultSpace.Nodes.Cast<ParameterNode>())
            Assert.Null(trainer.Parameters.Single(p => p.Name == node.Name).Check(node.Distribution));

        var sampler = new RandomSampler(seed: 3);
        var ml = new MLContext(seed: 1);
        for (int i = 0; i < 10; i++)
            Assert.NotNull(trainer.Create(ml, sampler.Sample(trainer.DefaultSpace, [], StudyDirection.Maximize)));
    }

    [Fact]
    public void Every_parameter_has_a_description_and_a_default_inside_its_range()
    {
        foreach (var trainer in TrainerCatalog.Trainers)
        foreach (var parameter in trainer.Parameters)
        {
            Assert.False(string.IsNullOrWhiteSpace(parameter.Description), $"{trainer.Name}.{parameter.Name}");
            if (parameter.Default is { } d) Assert.Null(parameter.Check(d));
        }
    }

    [Fact]
    public void The_seed_projects_sklearn_sgd_space_maps_to_sgd_calibrated_and_sdca()
    {
        // Seed (sklearn SGDClassifier): alpha uniform(0, 1e-4), max_iter quniform(50, 1000, 50), l1_ratio uniform(0.1, 0.3).
        // alpha → l2Regularization and max_iter → numberOfIterations on SgdCalibrated; ML.NET's SGD has no L1 term, so the
        // elastic-net part goes to SdcaLogisticRegression: l1 ≈ alpha·l1_ratio ≤ 3e-5, l2 ≈ alpha·(1 − l1_ratio) ≤ 1e-4.
        var space = SearchSpaceParser.Parse("""
            { "trainer": { "choice": {
                "SgdCalibrated": { "l2Regularization": "uniform(0, 1e-4)", "numberOfIterations": "quniform(50, 1000, 50)" },
                "SdcaLogisticRegression": { "l2Regularization": "uniform(0, 1e-4)", "l1Regularization": "uniform(0, 3e-5)" }
            } } }
            """);
        var ml = new MLContext(seed: 1);
        // Draw until each branch has come up once, and fit that trial (a draw depends only on seed and history: vary the seed).
        var fitted = new Dictionary<string, double>();
        for (int i = 0; i < 50 && fitted.Count < 2; i++)
        {
            var trial = new RandomSampler(seed: 4 + i).Sample(space, [], StudyDirection.Maximize);
            if (fitted.ContainsKey((string)trial["trainer"])) continue;
            var model = TrainerCatalog.Create(ml, trial).Fit(Synthetic(ml, 200, seed: i));
            fitted[(string)trial["trainer"]] = ml.BinaryClassification.Evaluate(model.Transform(Synthetic(ml, 200, seed: 100 + i))).AreaUnderRocCurve;
        }
        Assert.Equal(2, fitted.Count);
        Assert.All(fitted, f => Assert.True(f.Value > 0.8, $"{f.Key}: AUC {f.Value:F3}"));

        // The sklearn names themselves are refused with the mapping in the message.
        var error = Assert.Throws<SearchSpaceException>(() => SearchSpaceParser.Parse("""
            { "trainer": { "choice": { "SgdCalibrated": { "alpha": "uniform(0, 1e-4)", "max_iter": "quniform(50, 1000, 50)", "l1_ratio": "uniform(0.1, 0.3)" } } } }
            """));
        Assert.Contains("(sklearn's alpha is l2Regularization)", error.Errors[0]);
        Assert.Contains("(sklearn's max_iter is numberOfIterations)", error.Errors[1]);
        Assert.Contains("(ML.NET's SGD has no L1 term; use SdcaLogisticRegression with l1Regularization for an L1 part)", error.Errors[2]);
    }

    [Fact]
    public void Feature_importance_is_null_for_a_model_without_weights()
    {
        var ml = new MLContext(seed: 1);
        var data = Synthetic(ml, 50, seed: 1);
        var normaliser = ml.Transforms.NormalizeMinMax("Features").Fit(data);

        Assert.Null(TrainerFeatureImportance.Compute(normaliser, ["f1", "f2", "f3"]));
        var model = TrainerCatalog.Get("LbfgsLogisticRegression").Create(ml, new Dictionary<string, object>()).Fit(data);
        var error = Assert.Throws<ArgumentException>(() => TrainerFeatureImportance.Compute(model, ["f1"]));
        Assert.StartsWith("The model has 3 feature weights but 1 slot names were given", error.Message);
    }
}

using CtBuild.Training;
using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning;

public class SearchSpaceParserTests
{
    private const string PipelineSpace = """
        {
          "trainer": { "choice": {
              "LightGbm": { "numberOfLeaves": "int(8, 128)", "learningRate": "loguniform(0.01, 0.3)",
                            "numberOfIterations": "int(50, 400, 25)", "minimumExampleCountPerLeaf": "int(5, 100)" },
              "SgdCalibrated": { "l2Regularization": "uniform(0, 1e-4)", "numberOfIterations": "quniform(50, 1000, 50)",
                                 "learningRate": "loguniform(0.001, 0.1)" }
          } }
        }
        """;

    private static SearchSpaceException Invalid(string json) =>
        Assert.Throws<SearchSpaceException>(() => SearchSpaceParser.Parse(json));

    [Fact]
    public void Parses_the_pipeline_space_into_a_trainer_choice_with_conditional_parameters()
    {
        var space = SearchSpaceParser.Parse(PipelineSpace);

        var trainer = Assert.IsType<ChoiceNode>(Assert.Single(space.Nodes));
        Assert.Equal("trainer", trainer.Name);
        Assert.Equal(["LightGbm", "SgdCalibrated"], trainer.Branches.Select(b => b.Label));
        var lightGbm = trainer.Branch("LightGbm").Space.Nodes.Cast<ParameterNode>().ToDictionary(n => n.Name, n => n.Distribution);
        Assert.Equal(new IntDistribution(8, 128), lightGbm["numberOfLeaves"]);
        Assert.Equal(new FloatDistribution(0.01, 0.3, Log: true), lightGbm["learningRate"]);
        Assert.Equal(new IntDistribution(50, 400, 25), lightGbm["numberOfIterations"]);
        var sgd = trainer.Branch("SgdCalibrated").Space.Nodes.Cast<ParameterNode>().ToDictionary(n => n.Name, n => n.Distribution);
        Assert.Equal(new FloatDistribution(50, 1000, Step: 50), sgd["numberOfIterations"]);
        Assert.Equal(new FloatDistribution(0, 1e-4), sgd["l2Regularization"]);
    }

    [Fact]
    public void Reads_constants_choice_lists_and_nested_choices_generically()
    {
        var space = SearchSpaceParser.Parse("""
            {
              "seed": 42, "ratio": 0.5, "shuffle": true, "mode": "fast",
              "depth": "choice(2, 4, 8)", "kind": { "choice": ["a", "b", 3] },
              "model": { "choice": {
                  "tree": { "leaves": "int(2, 10)", "split": { "choice": { "gini": {}, "entropy": { "base": "qloguniform(2, 16, 2)" } } } },
                  "linear": { "alpha": "loguniform(1e-5, 1)" }
              } }
            }
            """);

        var nodes = space.Nodes.ToDictionary(n => n.Name);
        Assert.Equal(new ConstantNode("seed", 42), nodes["seed"]);
        Assert.Equal(new ConstantNode("ratio", 0.5), nodes["ratio"]);
        Assert.Equal(new ConstantNode("shuffle", true), nodes["shuffle"]);
        Assert.Equal(new ConstantNode("mode", "fast"), nodes["mode"]);
        Assert.Equal(new CategoricalDistribution([2, 4, 8]), ((ParameterNode)nodes["depth"]).Distribution);
        Assert.Equal(new CategoricalDistribution(["a", "b", 3]), ((ParameterNode)nodes["kind"]).Distribution);
        var split = (ChoiceNode)((ChoiceNode)nodes["model"]).Branch("tree").Space.Nodes[1];
        Assert.Equal(new FloatDistribution(2, 16, Log: true, Step: 2), ((ParameterNode)split.Branch("entropy").Space.Nodes[0]).Distribution);
        Assert.Empty(split.Branch("gini").Space.Nodes);
        Assert.Equal(["seed", "ratio", "shuffle", "mode", "depth", "kind", "model", "leaves", "split", "base", "alpha"], space.AllNames());
    }

    [Fact]
    public void A_trainer_named_without_parameters_gets_its_default_space()
    {
        var byName = SearchSpaceParser.Parse("""{ "trainer": "FastTree" }""");
        var byList = SearchSpaceParser.Parse("""{ "trainer": { "choice": ["FastTree", "LightGbm"] } }""");
        var byEmpty = SearchSpaceParser.Parse("""{ "trainer": { "choice": { "FastTree": {} } } }""");

        Assert.Same(TrainerCatalog.Get("FastTree").DefaultSpace, ((ChoiceNode)byName.Nodes[0]).Branch("FastTree").Space);
        Assert.Same(TrainerCatalog.Get("LightGbm").DefaultSpace, ((ChoiceNode)byList.Nodes[0]).Branch("LightGbm").Space);
        Assert.Same(TrainerCatalog.Get("FastTree").DefaultSpace, ((ChoiceNode)byEmpty.Nodes[0]).Branch("FastTree").Space);
    }

    [Fact]
    public void Collects_every_error_with_the_json_path_of_the_bad_entry()
    {
        var error = Invalid("""
            {
              "trainer": { "choice": {
                "LightGbm": { "learningRate": "loguniform(0, 0.3)", "numberOfLeaves": "int(8.5, 128)", "bogus": "uniform(0, 1)" },
                "XgBoost": {},
                "SgdCalibrated": { "l2Regularization": "uniform(1e-4, 0)", "numberOfIterations": "quniform(50, 1000, 0)",
                                   "learningRate": "fast", "shuffle": "uniform(0, 1)" }
              } },
              "other": "unifrom(0, 1)", "n": "int(1, 5, 2", "list": [1, 2]
            }
            """);

        Assert.Equal(
        [
            "tune.space.trainer.LightGbm.learningRate: loguniform(): log bounds must be > 0, but got lo=0 in 'loguniform(0, 0.3)'",
            "tune.space.trainer.LightGbm.numberOfLeaves: int(): lo must be an integer, but got '8.5' in 'int(8.5, 128)'",
            "tune.space.trainer.LightGbm.bogus: unknown parameter 'bogus' for trainer 'LightGbm'; its parameters are: numberOfLeaves, numberOfIterations, learningRate, minimumExampleCountPerLeaf, l2Regularization, l1Regularization, featureFraction",
            "tune.space.trainer.XgBoost: unknown trainer 'XgBoost'; known trainers: SdcaLogisticRegression, LbfgsLogisticRegression, SgdCalibrated, FastTree, FastForest, LightGbm",
            "tune.space.trainer.SgdCalibrated.l2Regularization: uniform(): lo < hi must hold, but got lo=0.0001, hi=0 in 'uniform(1e-4, 0)'",
            "tune.space.trainer.SgdCalibrated.numberOfIterations: quniform(): q must be > 0, but got q=0 in 'quniform(50, 1000, 0)'",
            "tune.space.trainer.SgdCalibrated.learningRate: 'learningRate' must be a number, but got \"fast\"",
            "tune.space.trainer.SgdCalibrated.shuffle: 'shuffle' is bool and cannot take uniform(0, 1); use a constant or choice(...)",
            "tune.space.other: unknown function 'unifrom' in 'unifrom(0, 1)'; expected one of uniform, loguniform, quniform, qloguniform, int, choice",
            "tune.space.n: 'int(1, 5, 2' is not a well-formed expression; expected name(arg, ...) with name one of uniform, loguniform, quniform, qloguniform, int, choice",
            "tune.space.list: expected an expression string such as \"uniform(0, 1)\", a constant, or {\"choice\": [...]} / {\"choice\": {...}}, got array [1, 2]",
        ], error.Errors);
        Assert.Equal(2, error.ExitCode);
        Assert.StartsWith("The search space has 11 error(s); fix them in the config and rerun:", error.Message);
    }

    [Theory]
    [InlineData("""{ "trainer": { "choice": { "FastTree": { "numberOfLeaves": "uniform(2, 10)" } } } }""",
        "tune.space.trainer.FastTree.numberOfLeaves: 'numberOfLeaves' is an integer, but uniform(2, 10) gives non-integer values; use int(lo, hi[, step]) or quniform with integer lo and q")]
    [InlineData("""{ "trainer": { "choice": { "FastTree": { "numberOfLeaves": "int(1, 10)" } } } }""",
        "tune.space.trainer.FastTree.numberOfLeaves: 'numberOfLeaves' must be within [2, 1024], but got [1, 10]")]
    [InlineData("""{ "trainer": { "choice": { "FastTree": { "numberOfTrees": 2.5 } } } }""",
        "tune.space.trainer.FastTree.numberOfTrees: 'numberOfTrees' must be an integer, but got 2.5")]
    [InlineData("""{ "trainer": { "choice": { "FastTree": { "learningRate": "choice(0.1, \"x\")" } } } }""",
        "tune.space.trainer.FastTree.learningRate: 'learningRate' must be a number, but got \"x\"")]
    [InlineData("""{ "trainer": { "choice": { "SgdCalibrated": { "alpha": "uniform(0, 1e-4)" } } } }""",
        "tune.space.trainer.SgdCalibrated.alpha: unknown parameter 'alpha' for trainer 'SgdCalibrated' (sklearn's alpha is l2Regularization); its parameters are: l2Regularization, numberOfIterations, learningRate, convergenceTolerance, positiveInstanceWeight, shuffle")]
    [InlineData("""{ "x": "int(5, 5)" }""", "tune.space.x: int(): lo < hi must hold, but got lo=5, hi=5 in 'int(5, 5)'")]
    [InlineData("""{ "x": "qloguniform(-1, 5, 1)" }""", "tune.space.x: qloguniform(): log bounds must be > 0, but got lo=-1 in 'qloguniform(-1, 5, 1)'")]
    [InlineData("""{ "x": "uniform(a, 1)" }""", "tune.space.x: uniform(): lo must be a number, but got 'a' in 'uniform(a, 1)'")]
    [InlineData("""{ "x": "uniform(0, 1, 2)" }""", "tune.space.x: uniform() takes 2 numbers, got 3 in 'uniform(0, 1, 2)'")]
    [InlineData("""{ "x": { "choice": [] } }""", "tune.space.x: choice needs at least one value")]
    [InlineData("""{ "x": { "choice": [{ "a": 1 }] } }""", "tune.space.x.choice[0]: choice values must be numbers, strings or booleans, got object { \"a\": 1 }; use {\"choice\": {\"Name\": {...}}} for sub-spaces")]
    [InlineData("""{ "x": 1, "m": { "choice": { "a": { "x": "uniform(0, 1)" } } } }""", "tune.space.m.a.x: parameter 'x' is already defined in an enclosing space; rename one")]
    public void Refuses_invalid_entries_naming_the_path(string json, string expected)
    {
        Assert.Equal([expected], Invalid(json).Errors);
    }

    [Fact]
    public void Branch_values_pick_the_chosen_trainers_parameters()
    {
        var space = SearchSpaceParser.Parse("""{ "threshold": 0.5, "trainer": { "choice": { "FastTree": { "numberOfLeaves": "int(4, 8)" }, "LightGbm": {} } } }""");
        var values = new Dictionary<string, object> { ["threshold"] = 0.5, ["trainer"] = "FastTree", ["numberOfLeaves"] = 6 };

        Assert.Equal(new Dictionary<string, object> { ["numberOfLeaves"] = 6 }, space.BranchValues(values, "trainer"));
        Assert.Throws<ArgumentException>(() => space.BranchValues(values, "threshold"));
    }

    [Fact]
    public void A_space_round_trips_through_its_json_form()
    {
        var space = SearchSpaceParser.Parse("""
            { "seed": 42, "on": true, "name": "x", "kind": { "choice": ["3", 3, 0.1] }, "rate": "qloguniform(0.001, 0.5, 0.001)",
              "trainer": { "choice": { "LightGbm": {}, "SgdCalibrated": { "numberOfIterations": "quniform(50, 1000, 50)" } } } }
            """);

        var json = space.ToJson().ToJsonString();
        var again = SearchSpaceParser.Parse(json);

        Assert.Equal(space.ToString(), again.ToString());
        Assert.Equal(json, again.ToJson().ToJsonString());
        Assert.Equal(new CategoricalDistribution(["3", 3, 0.1]), ((ParameterNode)again.Nodes[3]).Distribution);
    }

    [Fact]
    public void Error_paths_start_at_the_given_prefix()
    {
        var error = Assert.Throws<SearchSpaceException>(() => SearchSpaceParser.Parse("""{ "x": "uniform(1, 0)" }""", "pipelines.adult.tune.space"));
        Assert.StartsWith("pipelines.adult.tune.space.x: ", Assert.Single(error.Errors));
    }

    [Fact]
    public void Distributions_round_trip_through_their_internal_form()
    {
        var log = new FloatDistribution(0.01, 0.3, Log: true);
        Assert.Equal(0.05, (double)log.ToExternal(log.ToInternal(0.05)), 12);
        var quantised = new FloatDistribution(50, 1000, Step: 50);
        Assert.Equal(1000.0, quantised.ToExternal(1020.0));
        Assert.Equal(150.0, quantised.ToExternal(140.0));
        var stepped = new IntDistribution(50, 400, 25);
        Assert.Equal(400, stepped.ToExternal(412.4));
        Assert.Equal(75, stepped.ToExternal(80.0));
        var categorical = new CategoricalDistribution(["a", true, 3]);
        Assert.Equal(true, categorical.ToExternal(categorical.ToInternal(true)));
        Assert.Equal("choice(a, true, 3)", categorical.Describe());
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtBuild.Reporting;

/// <summary>
/// Builds the Vega-Lite specs of a report, keyed by chart id. Colours are left out: the page adds a
/// config read from its CSS variables, so charts follow the light or dark scheme.
/// </summary>
internal static class ReportCharts
{
    // JavaScriptEncoder.Default escapes <, >, & and quotes as \uXXXX, so a value such as "</script>"
    // cannot close the <script type="application/json"> block the specs are embedded in.
    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.Default };

    /// <summary>The specs of a run report's charts; a chart with no data is left out.</summary>
    public static Dictionary<string, JsonNode> ForReport(PipelineReport report)
    {
        var charts = new Dictionary<string, JsonNode>();
        var trials = report.Tuning.Trials.Where(t => t.ValidationAuc is not null).OrderBy(t => t.Number).ToList();
        if (trials.Count > 0)
        {
            charts["tuning"] = TuningProgress(trials);
            if (ParamPoints(trials) is { Count: > 0 } points) charts["params"] = ParamScatter(points);
        }
        var models = new[] { report.Models.Candidate, report.Models.Champion }.OfType<ModelEvaluation>().ToList();
        if (models.Any(m => m.Roc.Count > 0)) charts["roc"] = Roc(models);
        if (models.Any(m => m.PrCurve.Count > 0)) charts["pr"] = PrCurve(models);
        if (models.Any(m => m.Calibration.Count > 0)) charts["calibration"] = Calibration(models);
        if (report.Bootstrap is { DeltaAuc.Count: > 0 } boot) charts["delta-auc"] = DeltaAucHistogram(boot);
        if (report.ModelCard.FeatureImportance.Count > 0) charts["importance"] = Importance(report.ModelCard.FeatureImportance);
        if (report.Data.Splits.Count > 0) charts["label-balance"] = LabelBalance(report.Data.Splits);
        return charts;
    }

    /// <summary>The specs of the index page's charts.</summary>
    public static Dictionary<string, JsonNode> ForIndex(IndexPage index)
    {
        var charts = new Dictionary<string, JsonNode>();
        if (index.ChampionHistory.Count > 0) charts["champion-history"] = ChampionHistory(index.ChampionHistory);
        return charts;
    }

    /// <summary>All specs as one JSON object, safe to place inside a script element.</summary>
    public static string ToJson(Dictionary<string, JsonNode> charts) => JsonSerializer.Serialize(charts, Json);

    static JsonNode TuningProgress(List<TrialResult> trials)
    {
        var best = double.NegativeInfinity;
        var values = trials.Select(t =>
        {
            best = Math.Max(best, t.ValidationAuc!.Value);
            return new { trial = t.Number, auc = t.ValidationAuc, best, trainer = t.Trainer };
        }).ToList();
        return Node(new
        {
            width = "container", height = 240,
            data = new { values },
            encoding = new { x = new { field = "trial", type = "quantitative", title = "Trial", axis = new { tickMinStep = 1 } } },
            layer = new object[]
            {
                new
                {
                    mark = new { type = "line", interpolate = "step-after", strokeWidth = 2 },
                    encoding = new { y = Y("best", "Validation AUC"), color = new { value = "var(--chart-best)" } },
                },
                new
                {
                    mark = new { type = "point", filled = true, size = 60, opacity = 0.85 },
                    encoding = new
                    {
                        y = Y("auc", "Validation AUC"),
                        color = new { field = "trainer", type = "nominal", title = "Trainer" },
                        tooltip = Tooltip(("trial", "quantitative", null), ("trainer", "nominal", null), ("auc", "quantitative", ".4f")),
                    },
                },
            },
        });
    }

    /// <summary>
    /// One point per (trial, numeric parameter): the long form the small multiples facet on. Only the
    /// parameters tried most often are drawn, so a wide search space does not bury the page in panels.
    /// </summary>
    static List<object> ParamPoints(List<TrialResult> trials, int mostParams = 6)
    {
        var numeric = trials.SelectMany(t => t.Params.Where(p => p.Value is double or float or int or long or decimal)).ToList();
        var main = numeric.GroupBy(p => p.Key).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(mostParams).Select(g => g.Key).ToHashSet();
        return trials.SelectMany(t => t.Params
                .Where(p => main.Contains(p.Key) && p.Value is double or float or int or long or decimal)
                .Select(p => (object)new { param = p.Key, value = Convert.ToDouble(p.Value, System.Globalization.CultureInfo.InvariantCulture), auc = t.ValidationAuc, trainer = t.Trainer, trial = t.Number }))
            .ToList();
    }

    static JsonNode ParamScatter(List<object> points) => Node(new
    {
        data = new { values = points },
        facet = new { field = "param", type = "nominal", title = (string?)null, header = new { labelFontWeight = "bold" } },
        columns = 3,
        spec = new
        {
            width = 170, height = 130,
            mark = new { type = "point", filled = true, opacity = 0.8 },
            encoding = new
            {
                x = new { field = "value", type = "quantitative", title = (string?)null, scale = new { zero = false } },
                y = Y("auc", "Validation AUC"),
                color = new { field = "trainer", type = "nominal", title = "Trainer" },
                tooltip = Tooltip(("trial", "quantitative", null), ("value", "quantitative", null), ("auc", "quantitative", ".4f")),
            },
        },
        resolve = new { scale = new { x = "independent" } },
    });

    static JsonNode Roc(List<ModelEvaluation> models) => CurveWithDiagonal(
        models.SelectMany(m => m.Roc.Select((p, i) => new { model = m.Label, x = p.Fpr, y = p.Tpr, order = i })),
        "False positive rate", "True positive rate", diagonal: true);

    static JsonNode PrCurve(List<ModelEvaluation> models) => CurveWithDiagonal(
        models.SelectMany(m => m.PrCurve.Select((p, i) => new { model = m.Label, x = p.Recall, y = p.Precision, order = i })),
        "Recall", "Precision", diagonal: false);

    static JsonNode Calibration(List<ModelEvaluation> models) => Node(new
    {
        width = "container", height = 260,
        layer = new object[]
        {
            Diagonal(),
            new
            {
                data = new { values = models.SelectMany(m => m.Calibration.Select(b => new { model = m.Label, predicted = b.MeanPredicted, observed = b.ObservedRate, count = b.Count })) },
                mark = new { type = "line", point = true },
                encoding = new
                {
                    x = new { field = "predicted", type = "quantitative", title = "Mean predicted probability", scale = new { domain = new[] { 0, 1 } } },
                    y = new { field = "observed", type = "quantitative", title = "Observed positive rate", scale = new { domain = new[] { 0, 1 } } },
                    color = ModelColor(),
                    tooltip = Tooltip(("model", "nominal", null), ("predicted", "quantitative", ".3f"), ("observed", "quantitative", ".3f"), ("count", "quantitative", ",")),
                },
            },
        },
    });

    static JsonNode DeltaAucHistogram(BootstrapSummary boot) => Node(new
    {
        width = "container", height = 240,
        layer = new object[]
        {
            new
            {
                data = new { values = boot.DeltaAuc.Select(d => new { delta = d }) },
                mark = new { type = "bar", opacity = 0.8, color = "var(--chart-bar)" },
                encoding = new
                {
                    x = new { field = "delta", type = "quantitative", bin = new { maxbins = 40 }, title = "ΔAUC (candidate − champion)" },
                    y = new { aggregate = "count", type = "quantitative", title = "Resamples" },
                },
            },
            new
            {
                data = new { values = new object[] { new { at = boot.CiLow, what = "CI low" }, new { at = boot.CiHigh, what = "CI high" } } },
                mark = new { type = "rule", strokeDash = new[] { 6, 4 }, strokeWidth = 2, color = "var(--chart-ci)" },
                encoding = new { x = new { field = "at", type = "quantitative" }, tooltip = Tooltip(("what", "nominal", null), ("at", "quantitative", ".4f")) },
            },
            new
            {
                data = new { values = new object[] { new { at = 0 } } },
                mark = new { type = "rule", strokeWidth = 2, color = "var(--chart-zero)" },
                encoding = new { x = new { field = "at", type = "quantitative" } },
            },
        },
    });

    static JsonNode Importance(IReadOnlyList<FeatureImportance> importance) => Node(new
    {
        width = "container", height = Math.Max(120, 22 * importance.Count),
        data = new { values = importance.Select(f => new { feature = f.Name, value = f.Value }) },
        mark = new { type = "bar", color = "var(--chart-bar)" },
        encoding = new
        {
            y = new { field = "feature", type = "nominal", sort = "-x", title = (string?)null },
            x = new { field = "value", type = "quantitative", title = "Importance" },
            tooltip = Tooltip(("feature", "nominal", null), ("value", "quantitative", ".4f")),
        },
    });

    static JsonNode LabelBalance(IReadOnlyList<SplitCounts> splits) => Node(new
    {
        width = "container", height = 30 * splits.Count + 40,
        data = new
        {
            values = splits.SelectMany(s => new object[]
            {
                new { split = s.Split, label = "positive", rows = s.Positives, order = 0 },
                new { split = s.Split, label = "negative", rows = s.Rows - s.Positives, order = 1 },
            }),
        },
        mark = "bar",
        encoding = new
        {
            y = new { field = "split", type = "nominal", sort = splits.Select(s => s.Split).ToArray(), title = (string?)null },
            x = new { field = "rows", type = "quantitative", stack = "normalize", title = "Share of rows", axis = new { format = "%" } },
            color = new { field = "label", type = "nominal", title = "Label", scale = new { domain = new[] { "positive", "negative" }, range = new[] { "var(--cat1)", "var(--chart-muted)" } } },
            order = new { field = "order" },
            tooltip = Tooltip(("split", "nominal", null), ("label", "nominal", null), ("rows", "quantitative", ",")),
        },
    });

    static JsonNode ChampionHistory(IReadOnlyList<ChampionPoint> history) => Node(new
    {
        width = "container", height = 220,
        data = new { values = history.Select(p => new { at = p.At.ToUniversalTime().ToString("o"), auc = p.Auc, model = p.ModelName + (p.Version is { } v ? $" v{v}" : "") }) },
        mark = new { type = "line", point = true, interpolate = "step-after", color = "var(--chart-best)" },
        encoding = new
        {
            x = new { field = "at", type = "temporal", title = "Run" },
            y = Y("auc", "Champion test AUC"),
            tooltip = Tooltip(("at", "temporal", "%Y-%m-%d %H:%M"), ("model", "nominal", null), ("auc", "quantitative", ".4f")),
        },
    });

    static JsonNode CurveWithDiagonal(IEnumerable<object> points, string xTitle, string yTitle, bool diagonal)
    {
        var curve = new
        {
            data = new { values = points },
            mark = new { type = "line", strokeWidth = 2 },
            encoding = new
            {
                x = new { field = "x", type = "quantitative", title = xTitle, scale = new { domain = new[] { 0, 1 } } },
                y = new { field = "y", type = "quantitative", title = yTitle, scale = new { domain = new[] { 0, 1 } } },
                color = ModelColor(),
                order = new { field = "order" },
                tooltip = Tooltip(("model", "nominal", null), ("x", "quantitative", ".3f"), ("y", "quantitative", ".3f")),
            },
        };
        return Node(new { width = "container", height = 260, layer = diagonal ? new object[] { Diagonal(), curve } : new object[] { curve } });
    }

    static object Diagonal() => new
    {
        data = new { values = new[] { new { x = 0, y = 0 }, new { x = 1, y = 1 } } },
        mark = new { type = "line", strokeDash = new[] { 4, 4 }, color = "var(--chart-muted)" },
        encoding = new { x = new { field = "x", type = "quantitative" }, y = new { field = "y", type = "quantitative" } },
    };

    static object ModelColor() => new { field = "model", type = "nominal", title = "Model" };

    static object Y(string field, string title) =>
        new { field, type = "quantitative", title, scale = new { zero = false } };

    static object[] Tooltip(params (string Field, string Type, string? Format)[] fields) =>
        fields.Select(f => f.Format is null ? (object)new { field = f.Field, type = f.Type } : new { field = f.Field, type = f.Type, format = f.Format }).ToArray();

    static JsonNode Node(object spec) => JsonSerializer.SerializeToNode(spec, Json)!;
}

using CtBuild.Lake;
using CtBuild.Publishing;
using CtBuild.Stages;
using CtBuild.Storage;
using CtBuild.Tests.Support;
using CtBuild.Training;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CtBuild.Tests.Publishing;

public sealed class OnnxExportTests : IDisposable
{
    readonly TempWorkspace _dev = DevProd.Dev();
    readonly string _shared = Directory.CreateTempSubdirectory("ctb-shared-").FullName;

    public void Dispose()
    {
        _dev.Dispose();
        Directory.Delete(_shared, recursive: true);
    }

    [Fact]
    public void The_published_onnx_model_scores_the_test_rows_like_the_mlnet_model()
    {
        var bundle = BundlePublisher.Publish(_dev.LoadDev(), _shared);
        var ws = _dev.LoadDev();
        var candidate = CandidateModel.Read(ws.CandidateDir)!;
        ModelInput test;
        using (var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill")))
            test = ModelInput.Load(db, LakeTables.Latest(ws, SplitStage.Table, "split"), candidate.Signature, "test", "id");
        var expected = ModelScoring.Score(ModelScoring.Load(new MLContext(1), Path.Combine(bundle.Folder, "model.zip")), test);

        using var session = new InferenceSession(Path.Combine(bundle.Folder, BundlePublisher.OnnxFile),
            new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR });
        var n = test.Rows.Count;
        var numeric = new DenseTensor<float>(test.Rows.SelectMany(r => r.Numeric).ToArray(), [n, test.Rows[0].Numeric.Length]);
        var categorical = new DenseTensor<string>(test.Rows.SelectMany(r => r.Categorical).ToArray(), [n, test.Rows[0].Categorical.Length]);
        var labels = new DenseTensor<bool>(new bool[n], [n, 1]); // an input of the graph, unused for scoring
        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor(nameof(ModelInputRow.Numeric), numeric),
            NamedOnnxValue.CreateFromTensor(nameof(ModelInputRow.Categorical), categorical),
            NamedOnnxValue.CreateFromTensor(nameof(ModelInputRow.Label), labels)]);
        var actual = results.First(r => r.Name.StartsWith("Probability", StringComparison.Ordinal)).AsEnumerable<float>().ToArray();

        Assert.True(n > 50, $"enough test rows to compare ({n})");
        Assert.Equal(n, actual.Length);
        for (var i = 0; i < n; i++) Assert.Equal(expected[i], actual[i], 1e-5);
    }
}

using CtBuild.Training;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;

namespace CtBuild.Publishing;

/// <summary>
/// Exports a saved model (featurizer + trainer chain) to ONNX so it can be served without ML.NET, and
/// checks that ONNX Runtime loads it. A trainer the converter cannot export is reported, not fatal.
/// </summary>
public static class OnnxExport
{
    /// <summary>Writes <paramref name="onnxPath"/> and returns null, or returns why the model cannot be exported (nothing written).</summary>
    public static string? TryExport(string modelPath, FeatureSignature signature, string onnxPath)
    {
        try
        {
            var ml = new MLContext(1);
            var model = ml.Model.Load(modelPath, out _);
            // The converter needs the input schema (vector sizes), not rows: an empty view of the signature gives it.
            var input = new ModelInput([], signature).ToDataView(ml);
            using (var stream = File.Create(onnxPath))
                ml.Model.ConvertToOnnx(model, input, stream);
            // Warning level would print the converter's harmless shape-merge notes on every export.
            using var sessionOptions = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            using var session = new InferenceSession(onnxPath, sessionOptions);
            if (!session.OutputMetadata.Keys.Any(k => k.StartsWith("Probability", StringComparison.Ordinal)))
                throw new InvalidOperationException("the exported graph has no Probability output");
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            File.Delete(onnxPath);
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }
}

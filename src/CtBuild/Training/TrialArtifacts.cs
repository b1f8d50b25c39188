using System.Globalization;
using CtBuild.Storage;
using Microsoft.ML;

namespace CtBuild.Training;

/// <summary>
/// Where a study's trial models and run ids live, beside its trials (<c>&lt;study folder&gt;/artifacts</c>), so a
/// resumed Tune (or another worker's process) can make the candidate from a trial it did not train itself.
/// Only models that were the best when they finished are kept.
/// </summary>
public sealed class TrialArtifacts(string folder)
{
    public string Folder { get; } = Path.GetFullPath(folder);

    /// <summary>Saves a trial's trainer model (the part after the featurizer), atomically.</summary>
    public void SaveModel(int number, ITransformer model, DataViewSchema featurizedSchema)
    {
        Directory.CreateDirectory(Folder);
        ModelScoring.Save(model, featurizedSchema, ModelPath(number));
    }

    /// <summary>The trial's saved trainer model, or null when it was not kept.</summary>
    public ITransformer? LoadModel(MLContext ml, int number) => File.Exists(ModelPath(number)) ? ModelScoring.Load(ml, ModelPath(number)) : null;

    /// <summary>Records which tracked run holds the trial.</summary>
    public void SetRunId(int number, string runId) => AtomicFile.WriteAllText(Path.Combine(Folder, Name(number) + ".run"), runId);

    /// <summary>The tracked run of the trial, or "" when unknown.</summary>
    public string RunId(int number)
    {
        var path = Path.Combine(Folder, Name(number) + ".run");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    private string ModelPath(int number) => Path.Combine(Folder, Name(number) + ".model.zip");

    private static string Name(int number) => number.ToString("D6", CultureInfo.InvariantCulture);
}

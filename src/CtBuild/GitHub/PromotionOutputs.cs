using System.Globalization;

namespace CtBuild.GitHub;

/// <summary>
/// What a Promote run tells the workflow, as the step outputs <c>promoted</c>, <c>model</c>,
/// <c>version</c> and <c>auc</c>. continuous-training.yml pushes the promotion commit (or opens a
/// pull request) only when <c>promoted</c> is <c>true</c>.
/// </summary>
/// <param name="Promoted">Whether the candidate beat the champion and was committed.</param>
/// <param name="Model">The registered model's name (the folder under models/).</param>
/// <param name="Version">The version now champion; null when there is none yet.</param>
/// <param name="Auc">The champion's test AUC; null when unknown.</param>
public sealed record PromotionOutputs(bool Promoted, string Model, int? Version, double? Auc)
{
    /// <summary>Writes the four outputs; does nothing outside GitHub Actions.</summary>
    public void WriteTo(GitHubActions actions)
    {
        actions.SetOutput("promoted", Promoted ? "true" : "false");
        actions.SetOutput("model", Model);
        actions.SetOutput("version", Version?.ToString(CultureInfo.InvariantCulture) ?? "");
        // Invariant culture: a workflow compares these strings, and "0,91" would not parse as a number.
        actions.SetOutput("auc", Auc?.ToString("0.####", CultureInfo.InvariantCulture) ?? "");
    }
}

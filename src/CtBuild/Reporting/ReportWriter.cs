using CtBuild.Storage;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CtBuild.Reporting;

/// <summary>
/// Writes a run's report into the reports folder and updates the index:
/// <c>&lt;runId&gt;/report.html</c>, <c>&lt;runId&gt;/summary.md</c>, <c>summary.md</c> (the latest run),
/// <c>index.json</c> (every run, newest first) and <c>index.html</c>. Each file is written to a temp
/// file and renamed into place, so a reader never sees half a report.
/// </summary>
/// <remarks>Two runs writing the same reports folder at the same instant can lose one index row;
/// the pipeline runs one report stage at a time.</remarks>
public sealed class ReportWriter(string reportsFolder, ReportRenderer? renderer = null)
{
    static readonly JsonSerializerOptions IndexJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    readonly ReportRenderer renderer = renderer ?? new ReportRenderer();

    /// <summary>The reports folder, e.g. "reports".</summary>
    public string Folder { get; } = reportsFolder;

    /// <summary>Renders and writes the run's files, adds (or replaces) its row in the index, and returns where they went.</summary>
    public WrittenReport Write(PipelineReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        CheckRunId(report.RunId);
        var runFolder = Path.Combine(Folder, report.RunId);
        Directory.CreateDirectory(runFolder);

        var html = renderer.RenderReport(report);
        var summary = renderer.RenderMarkdownSummary(report);
        var runs = ReadIndex().Where(r => r.RunId != report.RunId)
            .Append(IndexEntry.From(report, $"{report.RunId}/report.html"));
        var index = IndexPage.FromRuns(runs);
        var indexHtml = renderer.RenderIndex(index);

        var written = new WrittenReport(
            Path.Combine(runFolder, "report.html"), Path.Combine(runFolder, "summary.md"),
            Path.Combine(Folder, "summary.md"), Path.Combine(Folder, "index.html"), Path.Combine(Folder, "index.json"),
            Encoding.UTF8.GetByteCount(html));
        AtomicFile.WriteAllText(written.ReportHtml, html);
        AtomicFile.WriteAllText(written.RunSummary, summary);
        AtomicFile.WriteAllText(written.LatestSummary, summary);
        AtomicFile.WriteAllText(written.IndexJson, JsonSerializer.Serialize(index.Runs, IndexJson));
        AtomicFile.WriteAllText(written.IndexHtml, indexHtml);
        return written;
    }

    /// <summary>The runs recorded in index.json, newest first; empty when there is none yet.</summary>
    public IReadOnlyList<IndexEntry> ReadIndex()
    {
        var path = Path.Combine(Folder, "index.json");
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<IndexEntry>>(File.ReadAllText(path), IndexJson) ?? [];
        }
        catch (JsonException ex)
        {
            throw new CtBuildException(
                $"Reports index '{path}' is not valid JSON ({ex.Message}). Fix or delete it; it is rebuilt from the next run on.", 1, ex);
        }
    }

    static void CheckRunId(string runId)
    {
        if (string.IsNullOrWhiteSpace(runId) || runId is "." or ".." || runId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || runId.Contains('/') || runId.Contains('\\'))
            throw new ArgumentException($"Run id '{runId}' cannot be used as a folder name under the reports folder.", nameof(runId));
    }
}

/// <summary>Where <see cref="ReportWriter.Write"/> put a run's files.</summary>
/// <param name="ReportHtmlBytes">Size of report.html in bytes.</param>
public sealed record WrittenReport(
    string ReportHtml, string RunSummary, string LatestSummary, string IndexHtml, string IndexJson, long ReportHtmlBytes);

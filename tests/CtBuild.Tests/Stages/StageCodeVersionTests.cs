using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CtBuild.Pipeline;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Stages;

/// <summary>
/// The guard behind "an upgraded CtBuild re-runs the stages whose logic changed": each stage's code version is
/// recorded in <c>stage-code-versions.json</c> with a hash of the sources that decide its output. When those
/// sources change, this test fails until someone decides whether the version must be bumped and records it.
/// </summary>
public sealed class StageCodeVersionTests
{
    const string RecordFile = "tests/CtBuild.Tests/Stages/stage-code-versions.json";
    static readonly string Engine = Path.Combine(TempWorkspace.RepoRoot, "src", "CtBuild");

    [Fact]
    public void Every_stage_s_code_version_matches_the_recorded_hash_of_the_code_that_decides_its_output()
    {
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(TempWorkspace.RepoRoot, RecordFile)),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
        var stages = record["stages"]!.AsObject();
        var problems = new List<string>();
        var corrected = new JsonObject();
        foreach (var stage in PipelineDefinition.Stages)
        {
            if (stages[stage.Name] is not JsonObject entry)
            {
                problems.Add($"{stage.Name}: no entry. Add one with the sources that decide its output.");
                continue;
            }
            var sources = entry["sources"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
            var hash = SourceHash(sources);
            var recordedVersion = entry["codeVersion"]!.GetValue<string>();
            var recordedHash = entry["sha256"]!.GetValue<string>();
            if (recordedVersion == stage.CodeVersion && recordedHash != hash)
                problems.Add($"{stage.Name}: its sources changed but its CodeVersion is still {stage.CodeVersion}.");
            else if (recordedVersion != stage.CodeVersion)
                problems.Add($"{stage.Name}: CodeVersion is {stage.CodeVersion} in the code, {recordedVersion} in the record.");
            corrected[stage.Name] = new JsonObject
            {
                ["codeVersion"] = stage.CodeVersion,
                ["sources"] = new JsonArray(sources.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
                ["sha256"] = hash,
            };
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems) + $"""


            What to do, per stage named above:
            1. Decide whether the change can alter what the stage outputs for the same inputs (rows, columns, the model,
               the decision, the report, the registry files). If it can, bump the stage's CodeVersion in
               src/CtBuild/Stages/<Stage>Stage.cs (e.g. split/2 -> split/3): every workspace re-runs that stage (and what
               follows) after upgrading. If it cannot (refactoring, renaming, logging, messages), keep the version.
               Comments and blank lines are not hashed, so they never need this.
            2. Record the result in {RecordFile}: the entries below hold this checkout's hashes and the code's versions.
            {string.Join(",\n", corrected.Select(e => $"    \"{e.Key}\": {e.Value!.ToJsonString()}"))}
            """);
    }

    [Fact]
    public void Every_engine_source_file_is_claimed_by_a_stage_or_declared_outside_every_stage_s_output()
    {
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(TempWorkspace.RepoRoot, RecordFile)),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
        var claimed = record["stages"]!.AsObject().SelectMany(s => s.Value!["sources"]!.AsArray().Select(x => x!.GetValue<string>()))
            .Concat(record["outside"]!.AsArray().Select(x => x!.GetValue<string>())).ToList();

        var unclaimed = EngineFiles().Where(f => !claimed.Any(c => Covers(c, f))).ToList();

        Assert.True(unclaimed.Count == 0,
            $"These engine files are not listed in {RecordFile}: {string.Join(", ", unclaimed)}. Add each to the 'sources' of " +
            "every stage whose output it can change (then follow that test's procedure), or to 'outside' when it decides no stage's output.");
    }

    /// <summary>sha256 over the listed sources: each file's path and content, C# without comments and blank lines.</summary>
    static string SourceHash(IReadOnlyList<string> sources)
    {
        var text = new StringBuilder();
        foreach (var source in sources)
        {
            if (source.StartsWith("package:", StringComparison.Ordinal))
            {
                var id = source["package:".Length..];
                // The engine references the package; its version is in Directory.Packages.props (central package management).
                _ = File.ReadLines(Path.Combine(Engine, "CtBuild.csproj")).SingleOrDefault(l => l.Contains($"Include=\"{id}\""))
                    ?? throw new InvalidOperationException($"{RecordFile}: CtBuild.csproj has no PackageReference '{id}'.");
                var line = File.ReadLines(Path.Combine(Engine, "..", "..", "Directory.Packages.props")).SingleOrDefault(l => l.Contains($"<PackageVersion Include=\"{id}\""))
                           ?? throw new InvalidOperationException($"{RecordFile}: Directory.Packages.props has no PackageVersion '{id}'.");
                text.Append(source).Append('\n').Append(line.Trim()).Append('\n');
                continue;
            }
            var files = EngineFiles().Where(f => Covers(source, f)).ToList();
            if (files.Count == 0) throw new InvalidOperationException($"{RecordFile}: source '{source}' matches no file under src/CtBuild.");
            foreach (var file in files) text.Append(file).Append('\n').Append(Normalized(file)).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string Normalized(string relative)
    {
        var content = File.ReadAllText(Path.Combine(Engine, relative)).Replace("\r\n", "\n");
        if (!relative.EndsWith(".cs", StringComparison.Ordinal)) return content;
        return string.Join("\n", content.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal)));
    }

    /// <summary>Engine files relative to src/CtBuild, '/'-separated, sorted; build output and benchmarks left out.</summary>
    static List<string> EngineFiles() =>
        Directory.EnumerateFiles(Engine, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Engine, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("bin/") && !f.StartsWith("obj/") && !f.Contains("/Benchmarks/") && f != "CtBuild.csproj")
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>A source is a file ("Stages/SplitStage.cs") or a folder ending in '/' ("Ingest/").</summary>
    static bool Covers(string source, string file) => source.EndsWith('/') ? file.StartsWith(source, StringComparison.Ordinal) : file == source;
}

using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CtBuild.Configuration;

namespace CtBuild.Init;

/// <summary>What the user asked <c>ctb init</c> for.</summary>
public sealed record InitRequest(string DataFile, string Label, string Positive, string? Key, string? Name, bool Force, string ToolVersion);

/// <summary>A file <c>ctb init</c> writes; <see cref="Merge"/> files are combined with an existing one, never refused.</summary>
public sealed record PlannedFile(string RelativePath, byte[] Content, bool Merge = false);

/// <summary>Everything <c>ctb init</c> will write and what it tells the user, decided before any file is touched.</summary>
public sealed record InitPlan(IReadOnlyList<PlannedFile> Files, IReadOnlyList<ColumnProfile> Columns, IReadOnlyList<string> Notes, IReadOnlyList<string> Warnings);

/// <summary>
/// <c>ctb init</c>: a working workspace from one data file. The data contract is inferred from the file
/// (<see cref="DataProfile"/>); the features SQL selects every column and the label; build.cake drives the
/// installed tool; the tool manifest pins cake.tool and CtBuild. Every check runs before anything is
/// written, so a refused init leaves the folder as it was.
/// </summary>
public static class WorkspaceInit
{
    public const string CakeToolVersion = "7.0.0";
    public const string SchemaFile = "ctbuild.schema.json";

    public static InitPlan Plan(string root, InitRequest request)
    {
        var data = Path.GetFullPath(request.DataFile);
        var columns = DataProfile.Read(data);
        var byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var notes = new List<string>();
        var warnings = new List<string>();

        if (!byName.TryGetValue(request.Label, out var label))
            throw new ConfigException($"--label '{request.Label}' is not a column of {request.DataFile}. Its columns are: {string.Join(", ", columns.Select(c => c.Name))}.");
        var labelValues = DataProfile.Values(data, request.Label, 101);
        if (labelValues.Count < 2)
            throw new ConfigException($"The label column '{request.Label}' has {(labelValues.Count == 0 ? "no values" : $"one value ('{labelValues[0].Value}')")} in {request.DataFile}: a classifier needs rows of both classes. Pick another label column or a file with both.");
        if (labelValues.Count > 100)
            throw new ConfigException($"The label column '{request.Label}' has more than 100 distinct values: it is not a class label. Pick the column that says yes or no.");
        if (!labelValues.Any(v => v.Value == request.Positive))
            throw new ConfigException($"--positive '{request.Positive}' is not a value of '{request.Label}'. Its values are: {string.Join(", ", labelValues.Take(10).Select(v => $"'{v.Value}'"))}{(labelValues.Count > 10 ? ", …" : "")}.");
        if (labelValues.Count > 2)
            warnings.Add($"the label '{request.Label}' has {labelValues.Count} values ({string.Join(", ", labelValues.Take(5).Select(v => v.Value))}{(labelValues.Count > 5 ? ", …" : "")}): '{request.Positive}' is positive, every other value negative. Check that this is the question you mean.");
        if (label.Missing > 0)
            notes.Add($"{label.Missing} row(s) have no label; Ingest will quarantine them.");
        ColumnProfile? key = null;
        if (request.Key is not null)
        {
            if (!byName.TryGetValue(request.Key, out key))
                throw new ConfigException($"--key '{request.Key}' is not a column of {request.DataFile}. Its columns are: {string.Join(", ", columns.Select(c => c.Name))}.");
            if (key.Distinct != key.Rows)
                warnings.Add($"the key '{request.Key}' is not unique in {request.DataFile} ({key.Distinct} distinct values in {key.Rows} rows): rows with the same key share a split.");
        }

        var name = request.Name ?? ModelName(Path.GetFileName(data));
        if (!Regex.IsMatch(name, "^[a-z0-9][a-z0-9._-]*$"))
            throw new ConfigException($"--name '{name}' is not a valid model name: use lower-case letters, digits, '.', '_' and '-'.");

        var features = new List<string>();
        var exclude = new List<string>();
        foreach (var c in columns.Where(c => c.Name != request.Label && ReservedOutputs.Contains(c.Name)))
            notes.Add($"'{c.Name}' is a name the pipeline gives its own column; the features SQL selects it as '{FeatureName(c.Name)}'.");
        foreach (var c in columns.Where(c => c.Name != request.Label))
        {
            if (c.EmptyEverywhere)
            {
                warnings.Add($"'{c.Name}' is empty in every row: it is declared in the contract but left out of the features SQL.");
                continue;
            }
            features.Add(c.Name);
            if (c.Name == request.Key) { exclude.Add(c.Name); continue; }
            if (c.LooksLikeId)
            {
                exclude.Add(c.Name);
                warnings.Add($"'{c.Name}' looks like an id (a different value in every row): it is excluded from the features{(request.Key is null ? "; if it identifies a row, pass it as --key so splits follow it" : "")}.");
            }
        }

        var globalMissing = new[] { "" }.Concat(columns.SelectMany(c => c.MissingMarkers).Where(m => DataProfile.StrongMarkers.Contains(m)).Distinct().Order(StringComparer.Ordinal)).ToList();
        foreach (var c in columns)
        {
            if (c.MissingMarkers.Count > 0)
                notes.Add($"'{c.Name}': {string.Join(", ", c.MissingMarkers.Select(m => $"'{m}'"))} read as missing.");
            if (c.KeptMarkers.Count > 0)
                notes.Add($"'{c.Name}': {string.Join(", ", c.KeptMarkers.Select(m => $"'{m}'"))} kept as a category of its own (a text column's value, not a missing marker).");
        }

        var files = new List<PlannedFile>
        {
            Text("ctbuild.json", ConfigJson(name, Path.GetFileName(data), request, columns, labelValues.Select(v => v.Value).ToList(), globalMissing, key, exclude)),
            new(SchemaFile, Encoding.UTF8.GetBytes(ConfigSchema.Generate())),
            Text("features/features.sql", FeaturesSql(Path.GetFileName(data), features, request)),
            Text("build.cake", Resource("build.cake")),
            Text("build/ctb.cake", Resource("ctb.cake")),
            Text(".github/workflows/continuous-training.yml", Resource("continuous-training.yml")),
            new(ToolManifestPath(root), Encoding.UTF8.GetBytes(ToolManifest(root, request.ToolVersion)), Merge: true),
            new(".gitignore", Encoding.UTF8.GetBytes(GitIgnore(root)), Merge: true),
            new(Path.Combine("data", "raw", Path.GetFileName(data)), File.ReadAllBytes(data)),
        };
        if (!request.Force)
        {
            var existing = files.Where(f => !f.Merge && File.Exists(Path.Combine(root, f.RelativePath))
                                            && !File.ReadAllBytes(Path.Combine(root, f.RelativePath)).AsSpan().SequenceEqual(f.Content))
                .Select(f => f.RelativePath).ToList();
            if (existing.Count > 0)
                throw new ConfigException($"ctb init would overwrite {string.Join(", ", existing)} in {root}. Nothing was written. Move them away, or pass --force to replace them.");
        }
        return new InitPlan(files, columns, notes, warnings);
    }

    /// <summary>Writes the plan's files (each atomically); returns their paths relative to <paramref name="root"/>.</summary>
    public static IReadOnlyList<string> Write(string root, InitPlan plan)
    {
        foreach (var f in plan.Files)
        {
            var path = Path.Combine(root, f.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Storage.AtomicFile.WriteAllBytes(path, f.Content);
        }
        return plan.Files.Select(f => f.RelativePath).ToList();
    }

    /// <summary>Columns the features output may not have: Split adds <c>split</c>, the SQL's label is <c>label</c>.</summary>
    static readonly string[] ReservedOutputs = ["split", "label"];

    static string FeatureName(string column) => ReservedOutputs.Contains(column) ? "original_" + column : column;

    static PlannedFile Text(string path, string text) => new(path, Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n")));

    static string ModelName(string fileName)
    {
        var stem = fileName.Split('.')[0].ToLowerInvariant();
        var slug = Regex.Replace(stem, "[^a-z0-9]+", "-").Trim('-');
        return slug.Length == 0 ? "model" : char.IsLetterOrDigit(slug[0]) ? slug : "m" + slug;
    }

    static string ConfigJson(string name, string fileName, InitRequest request, IReadOnlyList<ColumnProfile> columns,
        IReadOnlyList<string> labelValues, IReadOnlyList<string> missing, ColumnProfile? key, IReadOnlyList<string> exclude)
    {
        static string J(object value) => JsonSerializer.Serialize(value);
        var width = columns.Max(c => c.Name.Length) + 3;
        var sb = new StringBuilder();
        sb.Append($$"""
            // CtBuild pipeline config, written by `ctb init` from {{fileName}}. Check the data contract below:
            // it was inferred from that one file (types, nullability, allowed values of low-cardinality text;
            // ranges are left open). Comments and trailing commas are allowed.
            {
              "$schema": "./{{SchemaFile}}",
              "name": {{J(name)}},

              // Every row of every file in data/raw/ is checked against this contract; bad rows go to quarantine.
              "ingest": {

            """);
        if (key is not null) sb.Append($"    \"key\": {J(key.Name)},\n");
        sb.Append($"    \"missingValues\": {J(missing)},\n");
        sb.Append("    \"maxBadFraction\": 0.05,\n");
        sb.Append($"    \"label\": {{ \"column\": {J(request.Label)}, \"positive\": {J(request.Positive)}, \"values\": {J(labelValues)} }},\n");
        sb.Append("    \"columns\": {\n");
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            var parts = new List<string> { $"\"type\": {J(c.Type)}" };
            if (c.Name == request.Label || c.Missing == 0 && !c.EmptyEverywhere) parts.Add("\"nullable\": false");
            var own = c.MissingMarkers.Where(m => !missing.Contains(m)).ToList();
            if (own.Count > 0) parts.Add($"\"missingValues\": {J(own)}");
            if (c.LowCardinalityValues is { } values && c.Name != request.Label) parts.Add($"\"values\": {J(values)}");
            sb.Append($"      {(J(c.Name) + ":").PadRight(width)} {{ {string.Join(", ", parts)} }}{(i < columns.Count - 1 ? "," : "")}\n");
        }
        sb.Append($$"""
                }
              },

              "features": { "sql": "features/features.sql", "label": "label", "exclude": {{J(exclude)}} },

            """);
        sb.Append(key is not null ? $"  \"split\": {{ \"key\": {J(key.Name)}, \"train\": 0.7, \"valid\": 0.15, \"test\": 0.15 }},\n\n"
                                  : "  \"split\": { \"train\": 0.7, \"valid\": 0.15, \"test\": 0.15 },\n\n");
        sb.Append("""
              // The default search space: gradient-boosted trees and a linear model.
              "tune": {
                "sampler": "tpe",
                "maxEvals": 30,
                "timeBudget": "10m",
                "seed": 42,
                "space": {
                  "trainer": {
                    "choice": {
                      "LightGbm": {
                        "numberOfLeaves": "int(8, 64)",
                        "learningRate": "loguniform(0.02, 0.3)",
                        "numberOfIterations": "int(50, 500, 25)",
                        "minimumExampleCountPerLeaf": "int(5, 100)",
                        "featureFraction": "uniform(0.5, 1)"
                      },
                      "LbfgsLogisticRegression": {
                        "l2Regularization": "loguniform(1e-4, 1)"
                      }
                    }
                  }
                }
              },

              "evaluate": { "bootstrapRatio": 0.95, "resamples": 1000, "seed": 7, "minAuc": 0.7 },
              "promote": { "commit": true }
            }

            """);
        return sb.ToString();
    }

    static string FeaturesSql(string fileName, IReadOnlyList<string> features, InitRequest request)
    {
        var q = Lake.DeltaSchema.Quote;
        var sb = new StringBuilder();
        sb.Append($"-- Features, written by `ctb init` from {fileName}. Runs in DuckDB over the view `raw` (the raw table's\n");
        sb.Append("-- snapshot). Every column as it is, and the boolean label; types decide the encoding (numbers are\n");
        sb.Append("-- imputed and scaled, text is one-hot with missing as its own category). Derive features here.\n");
        sb.Append("SELECT\n");
        foreach (var f in features) sb.Append(FeatureName(f) == f ? $"    {q(f)},\n" : $"    {q(f)} AS {q(FeatureName(f))},\n");
        sb.Append($"    {q(request.Label)} = {Lake.DeltaSchema.Literal(request.Positive)} AS label\n");
        sb.Append("FROM raw\n");
        return sb.ToString();
    }

    /// <summary>The tool manifest to update: SDK 10's `dotnet new tool-manifest` writes ./dotnet-tools.json, older ones .config/.</summary>
    static string ToolManifestPath(string root) =>
        File.Exists(Path.Combine(root, "dotnet-tools.json")) ? "dotnet-tools.json" : Path.Combine(".config", "dotnet-tools.json");

    static string ToolManifest(string root, string toolVersion)
    {
        var path = Path.Combine(root, ToolManifestPath(root));
        JsonObject manifest;
        try { manifest = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : new JsonObject { ["version"] = 1, ["isRoot"] = true }; }
        catch (JsonException ex) { throw new ConfigException($"{path} is not valid JSON ({ex.Message}); fix or remove it, then run ctb init again."); }
        var tools = manifest["tools"] as JsonObject ?? (JsonObject)(manifest["tools"] = new JsonObject());
        // Keep a version the user pinned (e.g. by `dotnet tool install`); add what is missing.
        if (!tools.ContainsKey("cake.tool"))
            tools["cake.tool"] = new JsonObject { ["version"] = CakeToolVersion, ["commands"] = new JsonArray("dotnet-cake"), ["rollForward"] = false };
        if (!tools.Any(t => t.Key.Equals("ctbuild", StringComparison.OrdinalIgnoreCase)))
            tools["ctbuild"] = new JsonObject { ["version"] = toolVersion, ["commands"] = new JsonArray("ctb"), ["rollForward"] = false };
        return manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    static readonly string[] IgnoredPaths = ["/.ctb/", "/data/lake/", "/reports/", "/tools/", "/.cake/"];

    static string GitIgnore(string root)
    {
        var path = Path.Combine(root, ".gitignore");
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        var lines = text.Split('\n').Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
        var missing = IgnoredPaths.Where(p => !lines.Contains(p)).ToList();
        if (missing.Count == 0) return text;
        var sb = new StringBuilder(text);
        if (sb.Length > 0 && !text.EndsWith('\n')) sb.Append('\n');
        sb.Append("# CtBuild's pipeline state (the lake, fingerprints, reports, Cake's cache): rebuilt by a run, never committed\n");
        foreach (var p in missing) sb.Append(p).Append('\n');
        return sb.ToString();
    }

    static string Resource(string name)
    {
        var assembly = Assembly.GetExecutingAssembly();
        using var stream = assembly.GetManifestResourceStream("CtBuild.Init.Templates." + name)
                           ?? throw new InvalidOperationException($"The embedded template {name} is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

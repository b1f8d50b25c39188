using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace CtBuild.Configuration;

/// <summary>
/// Reads <c>ctbuild.json</c> (comments and trailing commas allowed) into a <see cref="PipelineConfig"/>.
/// Unknown keys, wrong types and values out of range are errors that name the key, the line and the column.
/// </summary>
public static partial class ConfigLoader
{
    public const string DefaultFileName = "ctbuild.json";

    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
    };

    public static PipelineConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new ConfigException($"Config file not found: {path}. Run ctb in the folder that holds {DefaultFileName}, or pass --config <file>.");
        return Parse(File.ReadAllText(path), path);
    }

    public static PipelineConfig Parse(string json, string fileName)
    {
        PipelineConfig config;
        try
        {
            config = JsonSerializer.Deserialize<PipelineConfig>(json, Options)
                     ?? throw new ConfigException($"{fileName}: the file is empty; it must hold a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ConfigException(Describe(ex, fileName, JsonLineMap.Build(json)));
        }
        var lines = JsonLineMap.Build(json);
        var errors = ConfigValidator.Validate(config).Select(e => $"{fileName}{lines.Locate(e.Path)} (key {e.Path}): {e.Message}").ToList();
        if (errors.Count > 0)
            throw new ConfigException(string.Join(Environment.NewLine, errors));
        return config;
    }

    static string Describe(JsonException ex, string fileName, JsonLineMap lines)
    {
        var path = ToKeyPath(ex.Path);
        var message = ex.Message;
        var unknown = UnknownMember().Match(message);
        if (unknown.Success)
        {
            // The serializer's path already ends at the unknown key; its position is where the key starts.
            var name = unknown.Groups[1].Value;
            var keyPath = path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path : Join(path, name);
            var parent = keyPath.Length > name.Length ? keyPath[..(keyPath.Length - name.Length - 1)] : "";
            return $"{fileName}{Where(ex, lines, keyPath)} (key {keyPath}): unknown key '{name}'.{ConfigKeys.Suggestion(parent, name)}";
        }
        var where = Where(ex, lines, path);
        var missing = MissingRequired().Match(message);
        if (missing.Success)
            return $"{fileName}{where} (key {path}): required key(s) missing: {missing.Groups[1].Value}.";
        if (message.Contains("could not be converted", StringComparison.Ordinal))
            return $"{fileName}{where} (key {path}): wrong type: {ExpectedType(message)}.";
        return $"{fileName}{where} (key {path}): {message.Split(" Path:")[0]}";
    }

    /// <summary>The key's own line and column; the reader's stop position only when the key is not in the map (syntax errors).</summary>
    static string Where(JsonException ex, JsonLineMap lines, string path) =>
        lines.Find(path) is { } at ? $" line {at.Line}, column {at.Column}"
        : ex.LineNumber is { } line ? $" line {line + 1}, column {ex.BytePositionInLine + 1}" : "";

    static string ExpectedType(string message)
    {
        var m = ConvertTarget().Match(message);
        if (!m.Success) return "the value does not have the expected type";
        var t = m.Groups[1].Value;
        var friendly = t switch
        {
            var s when Type.GetType(s.TrimEnd('.')) is { IsEnum: true } e => $"expected one of {string.Join(", ", Enum.GetNames(e).Select(JsonNamingPolicy.CamelCase.ConvertName))}",
            var s when s.Contains("Int32") => "expected a whole number",
            var s when s.Contains("Double") => "expected a number",
            var s when s.Contains("Boolean") => "expected true or false",
            var s when s.Contains("String") && s.Contains("IReadOnlyList") => "expected a list of strings",
            var s when s.Contains("String") && !s.Contains("Dictionary") => "expected a string",
            var s when s.Contains("Dictionary") => "expected an object",
            _ => "expected an object",
        };
        return friendly;
    }

    internal static string ToKeyPath(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "(root)" : jsonPath.TrimStart('$', '.').Replace("['", ".").Replace("']", "");

    static string Join(string path, string key) => path == "(root)" ? key : $"{path}.{key}";

    [GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnknownMember();
    [GeneratedRegex("missing required properties including: (.+?)\\.? Path")]
    private static partial Regex MissingRequired();
    [GeneratedRegex("could not be converted to (\\S+)")]
    private static partial Regex ConvertTarget();
}

/// <summary>Maps a dotted key path (<c>tune.maxEvals</c>) to its line and column in the JSON text.</summary>
public sealed class JsonLineMap
{
    readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);

    public static JsonLineMap Build(string json)
    {
        var map = new JsonLineMap();
        var bytes = Encoding.UTF8.GetBytes(json);
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++) if (bytes[i] == '\n') lineStarts.Add(i + 1);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var stack = new Stack<(string Path, int Index, bool IsArray)>();
        string? pendingName = null;
        try
        {
            while (reader.Read())
            {
                var pos = (int)reader.TokenStartIndex;
                var line = lineStarts.BinarySearch(pos) is var k && k >= 0 ? k : ~k - 1;
                var here = (line + 1, pos - lineStarts[line] + 1);
                string Current()
                {
                    if (stack.Count == 0) return "";
                    var top = stack.Pop();
                    string p;
                    if (top.IsArray) { p = $"{top.Path}[{top.Index}]"; stack.Push(top with { Index = top.Index + 1 }); }
                    else { p = top.Path.Length == 0 ? pendingName! : $"{top.Path}.{pendingName}"; stack.Push(top); }
                    return p;
                }
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingName = reader.GetString();
                        var parent = stack.Peek().Path;
                        map._positions.TryAdd(parent.Length == 0 ? pendingName! : $"{parent}.{pendingName}", here);
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        var path = Current();
                        map._positions.TryAdd(path, here);
                        stack.Push((path, 0, reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        stack.Pop();
                        break;
                    default:
                        map._positions.TryAdd(Current(), here);
                        break;
                }
            }
        }
        catch (JsonException) { /* the serializer reports syntax errors; the map keeps what it read */ }
        return map;
    }

    /// <summary>" line L, column C" for a key path, or its nearest known parent; empty when unknown.</summary>
    public string Locate(string path)
    {
        for (var p = path; p.Length > 0; p = p.Contains('.') ? p[..p.LastIndexOf('.')] : "")
            if (_positions.TryGetValue(p, out var at)) return $" line {at.Line}, column {at.Column}";
        return "";
    }

    public (int Line, int Column)? Find(string path) => _positions.TryGetValue(path, out var at) ? at : null;
}

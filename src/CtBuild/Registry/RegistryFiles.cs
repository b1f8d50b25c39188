using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace CtBuild.Registry;

/// <summary>The registry's folder layout under models/&lt;name&gt;/ and its JSON format.</summary>
internal static partial class RegistryFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
    };

    public static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    // Relative paths, '/'-separated: they are also git pathspecs and commit contents.
    public static string ModelFolder(string name) => $"models/{name}";
    public static string ModelJson(string name) => $"models/{name}/model.json";
    public static string VersionJson(string name, int version) => $"models/{name}/versions/v{version}.json";
    public static string VersionFolder(string name, int version) => $"models/{name}/versions/v{version}";
    public static string Aliases(string name) => $"models/{name}/aliases.json";
    public static string History(string name) => $"models/{name}/history.jsonl";
    public static string Pending(string name) => $"models/{name}/.pending.json";

    public static string Full(string root, string relative) => Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static T Read<T>(string root, string relative)
    {
        var path = Full(root, relative);
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json)
                   ?? throw new RegistryException($"Registry file {path} is empty. Restore it from git: `git checkout -- {relative}`.");
        }
        catch (JsonException e)
        {
            throw new RegistryException($"Registry file {path} is not valid JSON ({e.Message}). Restore it from git: `git checkout -- {relative}`.");
        }
    }

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Json);

    public static string CheckName(string name, string what)
    {
        if (!NamePattern().IsMatch(name))
            throw new RegistryException(
                $"{what} '{name}' is not valid: use letters, digits, '.', '_' or '-', starting with a letter or digit.", exitCode: 2);
        return name;
    }

    /// <summary>user@host, recorded with each history event.</summary>
    public static string Actor => $"{Environment.UserName}@{Environment.MachineName}";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();
}

using System.Reflection;
using System.Text.Json;

namespace CtBuild.Configuration;

/// <summary>The keys <c>ctbuild.json</c> knows at a path, read from the config records, for "did you mean" hints.</summary>
public static class ConfigKeys
{
    /// <summary>The known keys of the object at a dotted path (<c>tune</c>, <c>ingest.columns.age</c>); empty when free-form.</summary>
    public static IReadOnlyList<string> At(string path)
    {
        var type = typeof(PipelineConfig);
        foreach (var segment in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Dictionary(type) is { } valueType) { type = valueType; continue; } // the segment is a user's name
            var property = Properties(type).FirstOrDefault(p => Name(p) == segment);
            if (property is null) return [];
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }
        return Dictionary(type) is null && type.IsClass && type != typeof(string) ? Properties(type).Select(Name).ToList() : [];
    }

    /// <summary>" Did you mean 'maxEvals'?" for a near miss, else the keys allowed there.</summary>
    public static string Suggestion(string parentPath, string unknown)
    {
        var known = At(parentPath);
        if (known.Count == 0) return " Check its spelling against the README's config reference.";
        var nearest = known.MinBy(k => Distance(k.ToLowerInvariant(), unknown.ToLowerInvariant()))!;
        return Distance(nearest.ToLowerInvariant(), unknown.ToLowerInvariant()) <= Math.Max(2, unknown.Length / 3)
            ? $" Did you mean '{nearest}'?"
            : $" The keys allowed {(parentPath.Length == 0 ? "at the top level" : $"in {parentPath}")} are: {string.Join(", ", known)}.";
    }

    static Type? Dictionary(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var k, var v] && k == typeof(string)
        && typeof(IEnumerable<>).MakeGenericType(typeof(KeyValuePair<,>).MakeGenericType(k, v)).IsAssignableFrom(type) ? v : null;

    static IEnumerable<PropertyInfo> Properties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    static string Name(PropertyInfo p) => JsonNamingPolicy.CamelCase.ConvertName(p.Name);

    /// <summary>Levenshtein distance: edits that turn one word into the other.</summary>
    static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}

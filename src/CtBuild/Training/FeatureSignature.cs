using CtBuild.Lake;

namespace CtBuild.Training;

/// <summary>
/// The model's input: which feature columns are numeric and which categorical, in order, derived from
/// the features table's column types. Saved with every model version, checked before a model is reused.
/// </summary>
public sealed record FeatureSignature(IReadOnlyList<string> Numeric, IReadOnlyList<string> Categorical, string Label)
{
    static readonly HashSet<string> NumericTypes = ["long", "integer", "short", "byte", "double", "float", "boolean"];

    /// <summary>Every feature with its kind, for model cards and signature checks.</summary>
    public IEnumerable<(string Name, string Kind)> Features =>
        Numeric.Select(n => (n, "numeric")).Concat(Categorical.Select(c => (c, "categorical")));

    /// <summary>Numeric types (and booleans, as 0/1) become numeric features; strings and dates become categorical.</summary>
    public static FeatureSignature FromSchema(IReadOnlyList<DeltaField> schema, string label, IEnumerable<string> excluded)
    {
        var skip = new HashSet<string>(excluded, StringComparer.Ordinal) { label };
        var numeric = new List<string>();
        var categorical = new List<string>();
        foreach (var f in schema.Where(f => !skip.Contains(f.Name)))
        {
            if (NumericTypes.Contains(f.DeltaType) || f.DeltaType.StartsWith("decimal", StringComparison.Ordinal)) numeric.Add(f.Name);
            else categorical.Add(f.Name);
        }
        if (numeric.Count + categorical.Count == 0)
            throw new CtBuildException("The features table has no feature columns besides the label and excluded columns.");
        return new FeatureSignature(numeric, categorical, label);
    }

    /// <summary>A signature from stored (name, kind) columns, in the model's input order (kind: numeric or categorical).</summary>
    public static FeatureSignature FromColumns(IEnumerable<(string Name, string Kind)> columns, string label)
    {
        var list = columns.ToList();
        return new FeatureSignature(list.Where(c => c.Kind == "numeric").Select(c => c.Name).ToList(),
            list.Where(c => c.Kind == "categorical").Select(c => c.Name).ToList(), label);
    }

    /// <summary>What is missing from <paramref name="available"/> for this signature; empty when it can be scored.</summary>
    public IReadOnlyList<string> MissingFrom(IEnumerable<string> available)
    {
        var have = available.ToHashSet(StringComparer.Ordinal);
        return Numeric.Concat(Categorical).Where(c => !have.Contains(c)).ToList();
    }

    /// <summary>Differences against another signature, in words; empty when equal.</summary>
    public IReadOnlyList<string> Differences(FeatureSignature other)
    {
        var diffs = new List<string>();
        var mine = Features.ToDictionary(f => f.Name, f => f.Kind);
        var theirs = other.Features.ToDictionary(f => f.Name, f => f.Kind);
        foreach (var (name, kind) in theirs)
            if (!mine.TryGetValue(name, out var k)) diffs.Add($"'{name}' is new");
            else if (k != kind) diffs.Add($"'{name}' changed from {k} to {kind}");
        foreach (var name in mine.Keys.Where(n => !theirs.ContainsKey(n))) diffs.Add($"'{name}' is gone");
        return diffs;
    }
}

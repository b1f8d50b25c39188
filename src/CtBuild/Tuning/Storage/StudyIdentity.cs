using System.Text;
using System.Text.RegularExpressions;

namespace CtBuild.Tuning;

/// <summary>
/// A study's name and what it was made from: the inputs that decide its trials (splits version, space, seed, sampler
/// settings, …). Two runs with the same identity are the same study; a run that finds its study's name with other
/// inputs is refused (<see cref="StudyMismatchException"/>) rather than mixing trials of different problems.
/// </summary>
public sealed partial record StudyIdentity
{
    /// <param name="name">Letters, digits, '.', '_' and '-' (it names a folder or a row), at most 200 characters.</param>
    /// <param name="inputs">Input name → its value or hash, e.g. <c>splits.version</c> → <c>7</c>.</param>
    public StudyIdentity(string name, StudyDirection direction, IReadOnlyDictionary<string, string> inputs)
    {
        if (!SafeName().IsMatch(name))
            throw new ArgumentException($"Study name '{name}' must be 1–200 letters, digits, '.', '_' or '-' and not start with '.'.", nameof(name));
        Name = name;
        Direction = direction;
        Inputs = new SortedDictionary<string, string>(inputs.ToDictionary(), StringComparer.Ordinal);
    }

    public string Name { get; }

    public StudyDirection Direction { get; }

    /// <summary>The inputs, sorted by name.</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; }

    /// <summary>sha256 of the direction and the sorted inputs: equal exactly when <see cref="Differences"/> is empty.</summary>
    public string InputsHash => Hashing.Sha256Hex(new StringBuilder().Append("direction=").Append(Direction).Append('\n')
        .AppendJoin("", Inputs.Select(i => $"{i.Key.Length}:{i.Key}={i.Value.Length}:{i.Value}\n")).ToString());

    /// <summary>What differs between the stored study (<paramref name="stored"/>) and this one, one phrase per input.</summary>
    public IReadOnlyList<string> Differences(StudyIdentity stored)
    {
        var differences = new List<string>();
        if (stored.Direction != Direction) differences.Add($"direction is {stored.Direction} in the study, {Direction} here");
        foreach (var key in stored.Inputs.Keys.Union(Inputs.Keys).Order(StringComparer.Ordinal))
        {
            var theirs = stored.Inputs.GetValueOrDefault(key);
            var ours = Inputs.GetValueOrDefault(key);
            if (theirs != ours) differences.Add($"{key} is {Show(theirs)} in the study, {Show(ours)} here");
        }
        return differences;
    }

    /// <summary>Throws <see cref="StudyMismatchException"/> unless <paramref name="stored"/> has the same inputs.</summary>
    public void RequireSameAs(StudyIdentity stored, string where)
    {
        var differences = Differences(stored);
        if (differences.Count > 0) throw new StudyMismatchException(Name, where, differences);
    }

    private static string Show(string? value) => value is null ? "(absent)" : value.Length > 40 ? $"'{value[..37]}...'" : $"'{value}'";

    [GeneratedRegex(@"^[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,199}$")]
    private static partial Regex SafeName();
}

/// <summary>A study of that name exists with other inputs; nothing was written to it.</summary>
public sealed class StudyMismatchException(string study, string where, IReadOnlyList<string> differences)
    : CtBuildException($"Study '{study}' at {where} was made from other inputs: {string.Join("; ", differences)}. " +
                       "Nothing was written to it. Use another study name, or remove the study to start it again.", 2)
{
    public string Study { get; } = study;

    public IReadOnlyList<string> Differences { get; } = differences;
}

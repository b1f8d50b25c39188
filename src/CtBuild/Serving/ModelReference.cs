namespace CtBuild.Serving;

/// <summary>
/// Which registered model to use, as a user writes it: <c>name</c>, <c>name@alias</c> or <c>name:version</c>
/// (the name may be left out: <c>@challenger</c>, <c>:3</c>). Without alias or version it is the champion.
/// </summary>
public sealed record ModelReference(string Name, string? Alias, int? Version)
{
    /// <summary>True when the reference moves with an alias (the server follows it); false for a fixed version.</summary>
    public bool FollowsAlias => Version is null;

    public static ModelReference Parse(string? text, string defaultName)
    {
        text = string.IsNullOrWhiteSpace(text) ? defaultName : text.Trim();
        var at = text.IndexOf('@');
        var colon = text.IndexOf(':');
        if (at >= 0 && colon >= 0)
            throw new CtBuildException($"Model '{text}': give an alias (name@alias) or a version (name:N), not both.", 2);
        if (at >= 0)
        {
            var alias = text[(at + 1)..];
            if (alias.Length == 0) throw new CtBuildException($"Model '{text}': the alias after '@' is empty. Write e.g. {defaultName}@champion.", 2);
            return new ModelReference(NameOr(text[..at], defaultName), alias, null);
        }
        if (colon >= 0)
        {
            if (!int.TryParse(text[(colon + 1)..], out var version) || version < 1)
                throw new CtBuildException($"Model '{text}': the version after ':' must be a number from 1. Write e.g. {defaultName}:2.", 2);
            return new ModelReference(NameOr(text[..colon], defaultName), null, version);
        }
        return new ModelReference(text, Registry.ModelRegistry.ChampionAlias, null);
    }

    static string NameOr(string name, string defaultName) => name.Length == 0 ? defaultName : name;

    public override string ToString() => Version is { } v ? $"{Name}:{v}" : $"{Name}@{Alias}";
}

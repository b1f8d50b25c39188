using System.Text.Json;
using CtBuild.Training;

namespace CtBuild.Tuning;

/// <summary>
/// Reads the Hyperopt-like search space of the pipeline config into a <see cref="SearchSpace"/>.
/// </summary>
/// <remarks>
/// The space is an object of parameter name to: an expression string (see <see cref="SearchExpression"/>);
/// a constant (number, true/false, or a string that is not an expression); <c>{"choice": [values]}</c>;
/// or <c>{"choice": {"A": {sub-space}, "B": {...}}}</c>, whose branches' parameters exist only when chosen.
/// The top-level key <c>"trainer"</c> names trainers from <see cref="TrainerCatalog"/>: as a choice object of
/// trainer name to sub-space, a choice list of names, or one name. Its sub-spaces may use only that trainer's
/// parameters, within their ranges; an empty sub-space means the trainer's <see cref="TrainerSpec.DefaultSpace"/>,
/// and parameters a sub-space leaves out keep the trainer's defaults.
/// All problems are collected and thrown together as one <see cref="SearchSpaceException"/>.
/// </remarks>
public static class SearchSpaceParser
{
    /// <summary>The top-level key whose choice selects the trainer.</summary>
    public const string TrainerKey = "trainer";

    /// <summary>Parses and validates <paramref name="space"/>; <paramref name="path"/> is its JSON path, used in errors.</summary>
    /// <exception cref="SearchSpaceException">Listing every invalid entry with its path.</exception>
    public static SearchSpace Parse(JsonElement space, string path = "tune.space")
    {
        var errors = new List<string>();
        var result = ParseSpace(space, path, trainer: null, outerNames: new HashSet<string>(), errors, topLevel: true);
        if (errors.Count > 0) throw new SearchSpaceException(errors);
        return result;
    }

    /// <summary>Parses a JSON text; convenient for tests and for spaces written in code.</summary>
    public static SearchSpace Parse(string json, string path = "tune.space")
    {
        using var document = JsonDocument.Parse(json);
        return Parse(document.RootElement, path);
    }

    private static SearchSpace ParseSpace(JsonElement json, string path, TrainerSpec? trainer,
        IReadOnlySet<string> outerNames, List<string> errors, bool topLevel = false)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: expected an object of parameter name to expression, got {json.ValueKind}");
            return SearchSpace.Empty;
        }
        var names = new HashSet<string>(outerNames);
        foreach (var property in json.EnumerateObject())
            if (!names.Add(property.Name))
                errors.Add($"{path}.{property.Name}: parameter '{property.Name}' is already defined in an enclosing space; rename one");

        var nodes = new List<SpaceNode>();
        foreach (var property in json.EnumerateObject())
        {
            string at = $"{path}.{property.Name}";
            var node = topLevel && trainer is null && property.Name == TrainerKey
                ? ParseTrainerChoice(property.Value, at, names, errors)
                : ParseNode(property.Name, property.Value, at, trainer, names, errors);
            if (node is null) continue;
            if (trainer is not null && !CheckAgainstTrainer(node, trainer, at, errors)) continue;
            if (outerNames.Contains(node.Name) || nodes.Any(n => n.Name == node.Name)) continue;
            nodes.Add(node);
        }
        return new SearchSpace(nodes);
    }

    private static SpaceNode? ParseNode(string name, JsonElement value, string path, TrainerSpec? trainer,
        IReadOnlySet<string> names, List<string> errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                string text = value.GetString()!;
                if (!SearchExpression.LooksLikeExpression(text)) return new ConstantNode(name, text);
                var distribution = SearchExpression.TryParse(text, out string? error);
                if (distribution is null) errors.Add($"{path}: {error}");
                return distribution is null ? null : new ParameterNode(name, distribution);
            case JsonValueKind.Number:
            case JsonValueKind.True:
            case JsonValueKind.False:
                return new ConstantNode(name, Scalar(value));
            case JsonValueKind.Object when IsChoice(value, out var choice):
                return ParseChoice(name, choice, path, trainer, names, errors);
            default:
                errors.Add($"{path}: expected an expression string such as \"uniform(0, 1)\", a constant, "
                    + $"or {{\"choice\": [...]}} / {{\"choice\": {{...}}}}, got {Describe(value)}");
                return null;
        }
    }

    private static SpaceNode? ParseChoice(string name, JsonElement choice, string path, TrainerSpec? trainer,
        IReadOnlySet<string> names, List<string> errors)
    {
        if (choice.ValueKind == JsonValueKind.Array)
        {
            var values = new List<object>();
            int index = 0;
            foreach (var item in choice.EnumerateArray())
            {
                if (item.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    values.Add(Scalar(item));
                else
                    errors.Add($"{path}.choice[{index}]: choice values must be numbers, strings or booleans, got {Describe(item)}; "
                        + "use {\"choice\": {\"Name\": {...}}} for sub-spaces");
                index++;
            }
            if (values.Count == 0 && index == 0) errors.Add($"{path}: choice needs at least one value");
            else if (values.Distinct().Count() != values.Count) errors.Add($"{path}: choice lists a value twice");
            else if (values.Count == index) return new ParameterNode(name, new CategoricalDistribution(values));
            return null;
        }
        if (choice.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}.choice: expected a list of values or an object of branch name to sub-space, got {Describe(choice)}");
            return null;
        }
        var branches = new List<ChoiceBranch>();
        foreach (var branch in choice.EnumerateObject())
            branches.Add(new ChoiceBranch(branch.Name, ParseSpace(branch.Value, $"{path}.{branch.Name}", trainer, names, errors)));
        if (branches.Count == 0)
        {
            errors.Add($"{path}: choice needs at least one branch");
            return null;
        }
        return new ChoiceNode(name, branches);
    }

    private static SpaceNode? ParseTrainerChoice(JsonElement value, string path, IReadOnlySet<string> names, List<string> errors)
    {
        var branches = new List<ChoiceBranch>();
        void Add(string trainerName, JsonElement? subSpace, string at)
        {
            if (!TrainerCatalog.TryGet(trainerName, out var spec))
            {
                errors.Add($"{at}: unknown trainer '{trainerName}'; known trainers: {string.Join(", ", TrainerCatalog.Names)}");
                return;
            }
            var space = subSpace is { } s ? ParseSpace(s, at, spec, names, errors) : SearchSpace.Empty;
            branches.Add(new ChoiceBranch(trainerName, space.Nodes.Count == 0 ? spec.DefaultSpace : space));
        }

        if (value.ValueKind == JsonValueKind.String)
            Add(value.GetString()!, null, $"{path}.{value.GetString()}");
        else if (IsChoice(value, out var choice) && choice.ValueKind == JsonValueKind.Array)
            foreach (var item in choice.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String) Add(item.GetString()!, null, $"{path}.{item.GetString()}");
                else errors.Add($"{path}.choice: trainer names must be strings, got {Describe(item)}");
            }
        else if (IsChoice(value, out choice) && choice.ValueKind == JsonValueKind.Object)
            foreach (var branch in choice.EnumerateObject())
                Add(branch.Name, branch.Value, $"{path}.{branch.Name}");
        else
        {
            errors.Add($"{path}: expected a trainer name, {{\"choice\": [names]}} or {{\"choice\": {{\"Name\": {{params}}}}}}, got {Describe(value)}");
            return null;
        }
        return branches.Count == 0 ? null : new ChoiceNode(TrainerKey, branches);
    }

    private static bool CheckAgainstTrainer(SpaceNode node, TrainerSpec trainer, string path, List<string> errors)
    {
        var parameter = trainer.Parameters.FirstOrDefault(p => p.Name == node.Name);
        if (parameter is null)
        {
            string hint = trainer.Hints.TryGetValue(node.Name, out var h) ? $" ({h})" : "";
            errors.Add($"{path}: unknown parameter '{node.Name}' for trainer '{trainer.Name}'{hint}; "
                + $"its parameters are: {string.Join(", ", trainer.Parameters.Select(p => p.Name))}");
            return false;
        }
        string? error = node switch
        {
            ParameterNode p => parameter.Check(p.Distribution),
            ConstantNode c => parameter.Check(c.Value),
            ChoiceNode c => parameter.Type == TrainerParameterType.String
                ? c.Branches.Select(b => parameter.Check(b.Label)).FirstOrDefault(e => e is not null)
                : $"'{parameter.Name}' is {parameter.Type.ToString().ToLowerInvariant()}; only string parameters can branch",
            _ => null,
        };
        if (error is not null) errors.Add($"{path}: {error}");
        return error is null;
    }

    private static bool IsChoice(JsonElement value, out JsonElement choice)
    {
        choice = default;
        if (value.ValueKind != JsonValueKind.Object) return false;
        var properties = value.EnumerateObject().ToArray();
        if (properties is not [{ Name: "choice" } only]) return false;
        choice = only.Value;
        return true;
    }

    private static object Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => value.TryGetInt32(out int i) && !value.GetRawText().Contains('.') && !value.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase)
            ? (object)i
            : value.GetDouble(),
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object or JsonValueKind.Array => value.ValueKind.ToString().ToLowerInvariant() + " " + Truncate(value.GetRawText()),
        _ => value.GetRawText(),
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..37] + "...";
}

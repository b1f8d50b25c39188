using System.Text.Json.Nodes;

namespace CtBuild.Tuning;

/// <summary>
/// An immutable tree of parameters. A <see cref="ChoiceNode"/> makes its branches' parameters conditional:
/// they exist in a trial only when that branch is chosen. Build one with <see cref="SearchSpaceParser"/>
/// from the pipeline config, or from nodes directly.
/// </summary>
public sealed class SearchSpace
{
    public SearchSpace(IReadOnlyList<SpaceNode> nodes)
    {
        var duplicate = nodes.GroupBy(n => n.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Parameter '{duplicate.Key}' appears twice in one search space.", nameof(nodes));
        Nodes = nodes.ToArray();
    }

    /// <summary>A space with no parameters.</summary>
    public static SearchSpace Empty { get; } = new([]);

    /// <summary>The parameters at this level, in declaration order (the order they are sampled in).</summary>
    public IReadOnlyList<SpaceNode> Nodes { get; }

    /// <summary>Every parameter name that can appear in some trial.</summary>
    public IEnumerable<string> AllNames() => Nodes.SelectMany(n => n switch
    {
        ChoiceNode c => c.Branches.SelectMany(b => b.Space.AllNames()).Prepend(c.Name),
        _ => [n.Name],
    }).Distinct();

    /// <summary>
    /// The values in <paramref name="values"/> that belong to the chosen branch of the top-level choice
    /// <paramref name="choiceName"/>, nested choices included: e.g. the chosen trainer's own parameters, without
    /// the trainer name and without other top-level parameters.
    /// </summary>
    /// <exception cref="ArgumentException">The space has no such choice, or the values do not choose a branch of it.</exception>
    public IReadOnlyDictionary<string, object> BranchValues(IReadOnlyDictionary<string, object> values, string choiceName)
    {
        var choice = Nodes.OfType<ChoiceNode>().FirstOrDefault(c => c.Name == choiceName)
            ?? throw new ArgumentException($"The search space has no top-level choice '{choiceName}'.", nameof(choiceName));
        if (!values.TryGetValue(choiceName, out var label) || label is not string chosen)
            throw new ArgumentException($"The values do not choose a branch of '{choiceName}'.", nameof(values));
        var names = choice.Branch(chosen).Space.AllNames().ToHashSet();
        return values.Where(v => names.Contains(v.Key)).ToDictionary(v => v.Key, v => v.Value);
    }

    /// <summary>
    /// Samples the active parameters top-down into <paramref name="values"/>: constants as they are, each parameter by
    /// <paramref name="draw"/>; a choice is drawn like a parameter, then its branch is walked with the state that
    /// <paramref name="enterBranch"/> (state, choice name, label) gives, e.g. only the trials that took that branch.
    /// </summary>
    internal void Sample<TState>(TState state, Dictionary<string, object> values,
        Func<TState, string, Distribution, object> draw, Func<TState, string, string, TState> enterBranch)
    {
        foreach (var node in Nodes)
        {
            switch (node)
            {
                case ConstantNode c:
                    values[c.Name] = c.Value;
                    break;
                case ParameterNode p:
                    values[p.Name] = draw(state, p.Name, p.Distribution);
                    break;
                case ChoiceNode c:
                    var label = (string)draw(state, c.Name, c.Distribution);
                    values[c.Name] = label;
                    c.Branch(label).Space.Sample(enterBranch(state, c.Name, label), values, draw, enterBranch);
                    break;
            }
        }
    }

    /// <summary>
    /// The space in the config format <see cref="SearchSpaceParser"/> reads, so a run can record exactly what it searched.
    /// Categoricals are written as <c>{"choice": [...]}</c> to keep their value types.
    /// </summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var node in Nodes)
            json[node.Name] = node switch
            {
                ConstantNode c => JsonValue.Create(c.Value),
                ParameterNode { Distribution: CategoricalDistribution c } => new JsonObject
                {
                    ["choice"] = new JsonArray(c.Choices.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                },
                ParameterNode p => JsonValue.Create(p.Distribution.Describe()),
                ChoiceNode c => new JsonObject
                {
                    ["choice"] = new JsonObject(c.Branches.Select(b => KeyValuePair.Create(b.Label, (JsonNode?)b.Space.ToJson()))),
                },
                _ => throw new InvalidOperationException($"Unknown node type {node.GetType().Name}."),
            };
        return json;
    }

    public override string ToString() => "{" + string.Join(", ", Nodes) + "}";
}

/// <summary>One entry of a search space.</summary>
public abstract record SpaceNode(string Name);

/// <summary>A parameter drawn from <paramref name="Distribution"/>.</summary>
public sealed record ParameterNode(string Name, Distribution Distribution) : SpaceNode(Name)
{
    public override string ToString() => $"{Name}: {Distribution.Describe()}";
}

/// <summary>A parameter fixed to <paramref name="Value"/> (int, double, string or bool).</summary>
public sealed record ConstantNode(string Name, object Value) : SpaceNode(Name)
{
    public override string ToString() => $"{Name}: {Value}";
}

/// <summary>
/// A choice between named branches, each with its own sub-space. The trial's value for
/// <see cref="SpaceNode.Name"/> is the chosen branch's label (e.g. trainer = "LightGbm").
/// </summary>
public sealed record ChoiceNode(string Name, IReadOnlyList<ChoiceBranch> Branches) : SpaceNode(Name)
{
    /// <summary>The choice itself, as a categorical over the branch labels.</summary>
    public CategoricalDistribution Distribution { get; } = new(Branches.Select(b => (object)b.Label).ToArray());

    public ChoiceBranch Branch(string label) =>
        Branches.FirstOrDefault(b => b.Label == label)
        ?? throw new ArgumentException($"'{label}' is not a branch of choice '{Name}'.", nameof(label));

    public override string ToString() =>
        $"{Name}: choice{{" + string.Join(", ", Branches.Select(b => $"{b.Label}: {b.Space}")) + "}";
}

/// <summary>One branch of a <see cref="ChoiceNode"/>.</summary>
public sealed record ChoiceBranch(string Label, SearchSpace Space);

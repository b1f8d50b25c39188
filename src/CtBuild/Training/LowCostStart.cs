using CtBuild.Tuning;

namespace CtBuild.Training;

/// <summary>
/// FLAML's low-cost initial point, for every trainer of a search space: one configuration per trainer branch, in the
/// order the space lists them, where each parameter whose cost grows with its value (<see cref="TrainerParameter.CostGrows"/>:
/// trees, leaves, iterations) takes the smallest value its range allows, and every other one the trainer's default when
/// the range holds it, else the middle of the range (on its log scale for log ranges).
/// </summary>
public static class LowCostStart
{
    /// <summary>The start points of <paramref name="space"/>; none when it has no <c>trainer</c> choice.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object>> Points(SearchSpace space)
    {
        var choice = space.Nodes.OfType<ChoiceNode>().FirstOrDefault(c => c.Name == SearchSpaceParser.TrainerKey);
        if (choice is null) return [];
        return choice.Branches.Select(branch =>
        {
            var values = new Dictionary<string, object>();
            var trainer = TrainerCatalog.TryGet(branch.Label, out var spec) ? spec : null;
            foreach (var node in space.Nodes)
                if (node == choice) { values[choice.Name] = branch.Label; Fill(branch.Space, trainer, values); }
                else Fill(new SearchSpace([node]), null, values);
            return (IReadOnlyDictionary<string, object>)values;
        }).ToArray();
    }

    private static void Fill(SearchSpace space, TrainerSpec? trainer, Dictionary<string, object> values)
    {
        foreach (var node in space.Nodes)
        {
            switch (node)
            {
                case ConstantNode c:
                    values[c.Name] = c.Value;
                    break;
                case ParameterNode p:
                    values[p.Name] = Value(p.Distribution, trainer?.Parameters.FirstOrDefault(t => t.Name == p.Name));
                    break;
                case ChoiceNode c: // a nested choice: its first branch
                    var first = c.Branches[0];
                    values[c.Name] = first.Label;
                    Fill(first.Space, trainer, values);
                    break;
            }
        }
    }

    private static object Value(Distribution distribution, TrainerParameter? parameter)
    {
        if (distribution is CategoricalDistribution c)
            return parameter?.Default is { } d && c.Choices.Contains(d) ? d : c.Choices[0];
        if (parameter?.CostGrows == true) return distribution.ToExternal(distribution.InternalLow);
        if (parameter?.Default is int or double && distribution.ToInternal(parameter.Default) is var x
            && x >= distribution.InternalLow && x <= distribution.InternalHigh)
            return distribution.ToExternal(x);
        return distribution.ToExternal((distribution.InternalLow + distribution.InternalHigh) / 2);
    }
}

using CtBuild.Configuration;
using CtBuild.Lake;
using CtBuild.Storage;

namespace CtBuild.Training;

/// <summary>The rows of the workspace's splits table that training reads, and the features they offer.</summary>
public static class SplitRows
{
    /// <summary>The model inputs a splits snapshot offers: every column but the label and the <see cref="NonFeatureColumns"/> (split column, key, excluded, lineage).</summary>
    public static FeatureSignature Signature(Workspace ws, DeltaSnapshot splits) =>
        FeatureSignature.FromSchema(splits.Schema, ws.Config.Features.Label,
            NonFeatureColumns.Of(splits.Schema, ws.Config.Features.Exclude, ws.Config.Split.Key, LakeTables.SplitColumn).Select(c => c.Name));

    /// <summary>The train and valid rows of <paramref name="splits"/> for the features it offers.</summary>
    public static (ModelInput Train, ModelInput Valid, FeatureSignature Signature) LoadTrainAndValid(Workspace ws, DeltaSnapshot splits)
    {
        var signature = Signature(ws, splits);
        using var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill"));
        return (ModelInput.Load(db, splits, signature, "train", ws.Config.Split.Key),
                ModelInput.Load(db, splits, signature, "valid", ws.Config.Split.Key), signature);
    }
}

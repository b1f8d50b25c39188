using CtBuild.Configuration;
using CtBuild.Stages;

namespace CtBuild.Pipeline;

/// <summary>
/// <c>ctb tune worker</c>: runs trials of the workspace's study, in the study storage that <c>tune.storage</c> (or
/// <c>CTB_TUNE_STORAGE</c>, or <see cref="TuneWorkerOptions.Storage"/>) names, until the study's budget is spent. It is
/// the Tune stage without its candidate: it takes no workspace lock (many workers may share a machine, and the Tune stage
/// itself runs trials meanwhile) and records no stage lock, so the Tune stage still runs and picks the best over all.
/// </summary>
public static class TuneWorker
{
    public static StageOutputs Run(Workspace workspace, IPipelineLog log, TuneWorkerOptions options, CancellationToken cancellation = default) =>
        new TuneStage().Run(new StageContext(workspace, log, new RunOptions { TuneWorker = options }, cancellation));
}

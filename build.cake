// CtBuild's continuous-training pipeline on the bundled sample: one Cake task per stage, each running
// the `ctb` verb of the same name (build/ctb.cake, the same file `ctb init` writes into a workspace).
// Here ctb is built from src/ first, and only when its sources changed (build/engine.cake).
//
//   dotnet tool restore && dotnet cake --target=Promote        the whole DAG (default)
//   dotnet cake --target=Report                                 stop after the report
//   dotnet cake --target=Promote --force=true                   re-run every stage
//   dotnet cake --target=Promote --env=prod                     another environment from ctbuild.json
//   dotnet cake --tree                                          show the graph

#load "build/ctb.cake"
#load "build/engine.cake"

var target = Argument("target", "Promote");

Task("Build")
    .Description("Build the ctb tool from src/ (skipped when the sources are unchanged since the last build).")
    .Does(() => BuildEngine());

PipelineStages("Build");

// Dev → prod through shared storage (README "Dev and prod"); not part of the DAG above.
//   dotnet cake --target=Publish --env=dev --to=/mnt/shared/ctb
//   dotnet cake --target=Import --env=prod --from=/mnt/shared/ctb [--require-signature=true]
// or a container in place of the folder (credentials from AZURE_STORAGE_CONNECTION_STRING etc.):
//   dotnet cake --target=Publish --env=dev --to=az://myaccount/models/ctb
Task("Publish")
    .Description("Publish the champion (or --version=N) as a bundle into the shared folder or container (az://…) --to=.")
    .IsDependentOn("Build")
    .Does(() => RunCtb("publish" + (HasArgument("version") ? $" --version {Argument<int>("version")}" : "") + $" --to \"{Argument<string>("to")}\""));
Task("Import")
    .Description("Import the newest bundle from the shared folder or container (or the bundle itself) --from=: verify, re-evaluate, promote.")
    .IsDependentOn("Build")
    .Does(() => RunCtb($"import --from \"{Argument<string>("from")}\"" + (Argument("require-signature", false) ? " --require-signature" : "")
                       + (ctbNoCommit ? " --no-commit" : "")));

Task("Default").Description("The whole pipeline (Promote).").IsDependentOn("Promote");

RunPipeline(target);

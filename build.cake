// CtBuild's continuous-training pipeline as Cake tasks: one task per stage, each running the `ctb` verb
// of the same name. Cake skips a task whose stage the engine reports up to date, so the task summary
// shows what ran and what was skipped.
//
//   dotnet tool restore && dotnet cake --target=Promote        the whole DAG (default)
//   dotnet cake --target=Report                                 stop after the report
//   dotnet cake --target=Promote --force=true                   re-run every stage
//   dotnet cake --target=Promote --env=prod                     another environment from ctbuild.json
//   dotnet cake --tree                                          show the graph

#load "build/ctb.cake"

var target = Argument("target", "Promote");

Task("Build")
    .Description("Build the ctb tool (incremental).")
    .Does(() => BuildCtb());

Stage("Ingest", "Build", "Capture new raw files into the lake; quarantine bad rows.");
Stage("Features", "Ingest", "Run the features SQL over the raw snapshot.");
Stage("Split", "Features", "Hash-based train/valid/test assignment.");
Stage("Tune", "Split", "Hyperparameter search; the best trial is the candidate.");
Stage("Evaluate", "Tune", "Candidate vs champion: paired bootstrap of AUC, DeLong.");
Stage("Report", "Evaluate", "HTML report and Markdown summary in reports/.");
Stage("Promote", "Report", "Register the version, move the champion alias, commit models/.");

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

Task("Default").IsDependentOn("Promote");

RunTarget(target);

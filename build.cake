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

Task("Default").IsDependentOn("Promote");

RunTarget(target);

// The continuous-training pipeline of this workspace, written by `ctb init`: one Cake task per stage,
// each running the installed `ctb` tool's verb of the same name (see build/ctb.cake). Nothing is built.
//
//   dotnet tool restore && dotnet cake --target=Promote        the whole DAG (default)
//   dotnet cake --target=Report                                 stop after the report
//   dotnet cake --target=Promote --force=true                   re-run every stage
//   dotnet cake --tree                                          show the graph

#load "build/ctb.cake"

var target = Argument("target", "Promote");

PipelineStages(null);

Task("Default").Description("The whole pipeline (Promote).").IsDependentOn("Promote");

RunPipeline(target);

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;

namespace CtBuild.Configuration;

/// <summary>
/// The JSON Schema of <c>ctbuild.json</c>, generated from <see cref="PipelineConfig"/> with the loader's
/// own serializer options, so editors complete and check exactly what <see cref="ConfigLoader"/> accepts.
/// <c>ctb schema</c> prints it, the tool package ships it, <c>ctb init</c> writes it beside the config.
/// </summary>
public static class ConfigSchema
{
    public const string Id = "https://ctbuild.dev/schemas/ctbuild.schema.json";

    public static string Generate()
    {
        var options = new JsonSerializerOptions(ConfigLoader.Options);
        options.MakeReadOnly(populateMissingResolver: true);
        var schema = JsonSchemaExporter.GetJsonSchemaAsNode(options, typeof(PipelineConfig), new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                // Unknown keys are errors for the loader; say so to editors too.
                if (node is JsonObject o && o["properties"] is JsonObject && !o.ContainsKey("additionalProperties"))
                    o["additionalProperties"] = false;
                return node;
            },
        }).AsObject();
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = Id,
            ["title"] = "CtBuild pipeline config (ctbuild.json)",
        };
        foreach (var (k, v) in schema.ToList()) { schema.Remove(k); root[k] = v; }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}

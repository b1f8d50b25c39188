using System.Collections.Concurrent;
using System.Reflection;
using Scriban;
using Scriban.Parsing;
using Scriban.Runtime;

namespace CtBuild.Reporting;

/// <summary>
/// Finds templates and assets by file name: a file of that name in the user's template folder wins,
/// otherwise the copy embedded in the engine. Also serves <c>{{ include "name" }}</c>.
/// </summary>
internal sealed class ReportTemplates(string? userFolder) : ITemplateLoader
{
    const string TemplatePrefix = "CtBuild.Reporting.Templates.";
    const string AssetPrefix = "CtBuild.Reporting.Assets.";
    static readonly Assembly Engine = typeof(ReportTemplates).Assembly;
    static readonly ConcurrentDictionary<string, string> EmbeddedText = new();

    readonly ConcurrentDictionary<string, Template> parsed = new();

    /// <summary>The parsed template <paramref name="name"/>, e.g. "report.sbn-html".</summary>
    public Template Get(string name) => parsed.GetOrAdd(name, n =>
    {
        var (text, path) = Read(n);
        var template = Template.Parse(text, path);
        if (template.HasErrors)
            throw new ReportTemplateException(
                $"Template '{path}' does not parse: {string.Join("; ", template.Messages)}. Fix the template syntax.");
        return template;
    });

    /// <summary>An embedded asset (e.g. "vega.min.js"); assets are not overridable.</summary>
    public static string Asset(string name) => EmbeddedText.GetOrAdd(AssetPrefix + name, ReadResource);

    string ITemplateLoader.GetPath(TemplateContext context, SourceSpan callerSpan, string templateName) => templateName;

    string ITemplateLoader.Load(TemplateContext context, SourceSpan callerSpan, string templatePath) => Read(templatePath).Text;

    ValueTask<string?> ITemplateLoader.LoadAsync(TemplateContext context, SourceSpan callerSpan, string templatePath) =>
        ValueTask.FromResult<string?>(Read(templatePath).Text);

    (string Text, string Path) Read(string name)
    {
        if (name.Contains('/') || name.Contains('\\') || name.Contains(".."))
            throw new ReportTemplateException($"Template name '{name}' must be a plain file name such as 'report.sbn-html'.");
        if (userFolder is not null)
        {
            var path = System.IO.Path.Combine(userFolder, name);
            if (File.Exists(path)) return (File.ReadAllText(path), path);
        }
        return (EmbeddedText.GetOrAdd(TemplatePrefix + name, ReadResource), "embedded:" + name);
    }

    static string ReadResource(string resource)
    {
        using var stream = Engine.GetManifestResourceStream(resource)
            ?? throw new ReportTemplateException(
                $"No embedded resource '{resource}' in {Engine.GetName().Name}. " +
                "Check the file exists under src/CtBuild/Reporting/ and the name is spelt right.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>A report template is missing, does not parse, or failed to render (e.g. a misspelt variable).</summary>
public sealed class ReportTemplateException(string message, Exception? inner = null) : CtBuildException(message, 1, inner);

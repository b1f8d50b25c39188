using System.Globalization;
using System.Text.RegularExpressions;

namespace CtBuild.Configuration;

/// <summary>Sizes written as <c>512KB</c>, <c>128MB</c>, <c>1GB</c> (powers of 1024; KiB, MiB, GiB also accepted) or plain bytes.</summary>
public static partial class ByteSizes
{
    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var m = Pattern().Match(text.Trim());
        if (!m.Success) return false;
        var unit = m.Groups[2].Value.ToUpperInvariant().Replace("I", "");
        var factor = unit switch { "KB" => 1L << 10, "MB" => 1L << 20, "GB" => 1L << 30, _ => 1L };
        bytes = (long)(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * factor);
        return true;
    }

    public static long Parse(string text) => TryParse(text, out var v) ? v : throw new ConfigException($"'{text}' is not a size like 64MB or 1GB.");

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes + " B",
    };
}

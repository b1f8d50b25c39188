using System.Security.Cryptography;
using System.Text;

namespace CtBuild.Publishing;

/// <summary>
/// HMAC-SHA256 of the manifest's bytes with a key shared by both environments. The manifest holds every
/// file's sha256, so signing it signs the whole bundle.
/// </summary>
public static class BundleSignature
{
    /// <summary>The environment variable that holds the key (any text; use 32+ random bytes, e.g. base64).</summary>
    public const string KeyVariable = "CTB_BUNDLE_KEY";
    const string Prefix = "hmac-sha256:";

    /// <summary>The key from <see cref="KeyVariable"/>, or null when it is unset or empty.</summary>
    public static byte[]? KeyFromEnvironment() =>
        Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } text ? Encoding.UTF8.GetBytes(text) : null;

    /// <summary>The signature file's content for <paramref name="manifest"/>.</summary>
    public static string Sign(byte[] manifest, byte[] key) => Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(key, manifest));

    /// <summary>True when <paramref name="signature"/> is this key's signature of <paramref name="manifest"/> (constant-time compare).</summary>
    public static bool Matches(byte[] manifest, string signature, byte[] key)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(manifest, key));
        var actual = Encoding.ASCII.GetBytes(signature.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}

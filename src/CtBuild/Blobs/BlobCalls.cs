using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace CtBuild.Blobs;

/// <summary>
/// Runs a Blob Storage call and turns what can go wrong into an error the user can act on: the URL (never
/// its secret), what was being done, why, and what to do. Unreachable endpoints fail the command (exit 1);
/// refused credentials, missing permissions and a missing container are configuration (exit 2).
/// </summary>
public static class BlobCalls
{
    /// <summary>The HTTP status and error code of a blob that exists already (conditional create lost).</summary>
    public static bool IsAlreadyExists(RequestFailedException ex) => ex.Status == 409 || ex.Status == 412;

    public static T Run<T>(BlobContainerClient container, BlobLocation where, string doing, BlobCredentials credentials, Func<T> call)
    {
        try { return call(); }
        catch (Exception ex) when (Explain(ex, container, where, doing, credentials) is { } error) { throw error; }
    }

    public static void Run(BlobContainerClient container, BlobLocation where, string doing, BlobCredentials credentials, Action call) =>
        Run(container, where, doing, credentials, () => { call(); return 0; });

    /// <summary>The endpoint of <paramref name="container"/> without its query (a SAS lives there).</summary>
    public static string Endpoint(BlobContainerClient container) => new UriBuilder(container.Uri) { Query = "" }.Uri.ToString();

    static CtBuildException? Explain(Exception ex, BlobContainerClient container, BlobLocation where, string doing, BlobCredentials credentials)
    {
        var at = $"{where} ({Endpoint(container)})";
        var source = credentials.Source;
        if (ex is AuthenticationFailedException or CredentialUnavailableException)
            return new CtBuildException($"Could not {doing} {at}: no Azure credentials ({ex.GetType().Name}). Set {BlobCredentials.ConnectionStringVariable} " +
                $"(an account key or SAS connection string) or {BlobCredentials.SasTokenVariable}, or sign in so DefaultAzureCredential finds an identity " +
                "(az login, a managed identity, or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET).", 2, ex);
        var failed = ex as RequestFailedException ?? (ex as AggregateException)?.Flatten().InnerExceptions.OfType<RequestFailedException>().LastOrDefault();
        if (failed is { Status: > 0 })
        {
            var code = failed.ErrorCode ?? "no error code";
            if (failed.Status == 404 && code == "ContainerNotFound")
                return new CtBuildException($"Could not {doing} {at}: container '{where.Container}' does not exist in account '{where.Account}'. " +
                    $"Create it (az storage container create --name {where.Container} --account-name {where.Account}) or fix the URL.", 2, ex);
            if (failed.Status == 401 || code is "AuthenticationFailed" || code == "AuthorizationFailure" && failed.Message.Contains("authenticate", StringComparison.OrdinalIgnoreCase))
                return new CtBuildException($"Could not {doing} {at}: the storage service refused the credentials from {source} ({failed.Status} {code}): " +
                    "a wrong account key, or a SAS that is malformed, expired or for another resource. Copy the key or SAS again and rerun.", 2, ex);
            if (failed.Status == 403)
                return new CtBuildException($"Could not {doing} {at}: the credentials from {source} do not allow it ({failed.Status} {code}). " +
                    "Publishing needs read, list, write, create and delete; import and ingest need read and list. Grant them (a new SAS, or a role such as Storage Blob Data Contributor) and rerun.", 2, ex);
            return new CtBuildException($"Could not {doing} {at}: the storage service answered {failed.Status} {code}. Run again; if it persists, check the account's status.", 1, ex);
        }
        var network = Flatten(ex).FirstOrDefault(e => e is HttpRequestException or SocketException or TimeoutException or TaskCanceledException || e is RequestFailedException { Status: 0 });
        if (network is not null)
            return new CtBuildException($"Could not {doing} {at}: the endpoint cannot be reached ({network.GetType().Name}: {FirstLine(network.Message)}). " +
                $"Check the account name and the endpoint in {source}, and the network, then run again. Nothing was changed.", 1, ex);
        return null;
    }

    static IEnumerable<Exception> Flatten(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException agg)
                foreach (var inner in agg.Flatten().InnerExceptions.SelectMany(Flatten)) yield return inner;
        }
    }

    static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

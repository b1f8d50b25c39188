using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace CtBuild.Blobs;

/// <summary>
/// How ctb signs in to Blob Storage, from the standard variables, first match wins:
/// <c>AZURE_STORAGE_CONNECTION_STRING</c> (an account key or a SAS, and the endpoint: what Azurite and the
/// portal hand out), then <c>AZURE_STORAGE_SAS_TOKEN</c> for <c>https://&lt;account&gt;.blob.core.windows.net</c>,
/// then Azure.Identity's <see cref="DefaultAzureCredential"/> (environment service principal, workload or
/// managed identity, Azure CLI login). The values are never logged and never part of a message.
/// </summary>
public sealed record BlobCredentials(string? ConnectionString, string? SasToken)
{
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";
    public const string SasTokenVariable = "AZURE_STORAGE_SAS_TOKEN";

    public static BlobCredentials FromEnvironment() => new(
        Environment.GetEnvironmentVariable(ConnectionStringVariable) is { Length: > 0 } cs ? cs : null,
        Environment.GetEnvironmentVariable(SasTokenVariable) is { Length: > 0 } sas ? sas : null);

    /// <summary>What signs the requests, for messages: the variable's name, never its value.</summary>
    public string Source => ConnectionString is not null ? ConnectionStringVariable
        : SasToken is not null ? SasTokenVariable : "DefaultAzureCredential";

    /// <summary>A client of <paramref name="location"/>'s container. Nothing is sent yet.</summary>
    public BlobContainerClient Open(BlobLocation location)
    {
        var options = new BlobClientOptions();
        // Fail an unreachable endpoint in seconds, not minutes; a transient fault still gets three retries.
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(400);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(4);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(60);
        BlobServiceClient service;
        if (ConnectionString is not null)
        {
            try { service = new BlobServiceClient(ConnectionString, options); }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new ConfigException($"{ConnectionStringVariable} is not a valid storage connection string ({ex.GetType().Name}). " +
                                          "Copy it again from the storage account's Access keys or Shared access signature page.");
            }
            if (!string.Equals(service.AccountName, location.Account, StringComparison.Ordinal))
                throw new ConfigException($"{location} names account '{location.Account}' but {ConnectionStringVariable} is for account '{service.AccountName}'. " +
                                          "Use the connection string of that account, or fix the URL.");
        }
        else
        {
            var endpoint = new Uri($"https://{location.Account}.blob.core.windows.net");
            service = SasToken is not null
                ? new BlobServiceClient(endpoint, new AzureSasCredential(SasToken), options)
                : new BlobServiceClient(endpoint, new DefaultAzureCredential(), options);
        }
        return service.GetBlobContainerClient(location.Container);
    }
}

using CtBuild.Blobs;

namespace CtBuild.Tests.Blobs;

public sealed class BlobLocationTests
{
    [Theory]
    [InlineData("az://acct1/models", "acct1", "models", "")]
    [InlineData("az://acct1/models/", "acct1", "models", "")]
    [InlineData("az://acct1/models/ctb/dev//", "acct1", "models", "ctb/dev")]
    [InlineData("AZ://acct1/my-models/ctb", "acct1", "my-models", "ctb")]
    public void A_container_url_names_account_container_and_prefix(string url, string account, string container, string prefix)
    {
        var location = BlobLocation.Parse(url);
        Assert.Equal(new BlobLocation(account, container, prefix), location);
        Assert.Equal(prefix.Length == 0 ? "" : prefix + "/", location.ListPrefix);
        Assert.Equal(prefix.Length == 0 ? "m/x" : $"{prefix}/m/x", location.BlobName("m/x"));
    }

    [Theory]
    [InlineData("/mnt/shared", "not a container URL")]
    [InlineData("az://Acct/models", "'Acct' is not a storage account name")]
    [InlineData("az://acct1", "'' is not a container name")]
    [InlineData("az://acct1/Models", "'Models' is not a container name")]
    [InlineData("az://acct1/a--b", "'a--b' is not a container name")]
    [InlineData("az://acct1/models/../other", "may not hold '.', '..'")]
    [InlineData("az://acct1/models/ctb?sv=2024&sig=secret", "holds no secret")]
    [InlineData("az://acct1/models;AccountKey=secret", "holds no secret")]
    public void A_bad_url_is_a_config_error_that_says_which_part_and_never_repeats_a_secret(string url, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => BlobLocation.Parse(url));
        Assert.Contains(expected, error.Message);
        Assert.Equal(2, error.ExitCode);
        Assert.DoesNotContain("secret", error.Message.Replace("holds no secret", ""));
    }

    [Fact]
    public void Only_az_urls_are_containers() =>
        Assert.Equal([true, true, false, false], new[] { "az://a/b", "AZ://a/b", "/mnt/az://", "s3://b/p" }.Select(BlobLocation.IsBlobUrl));
}

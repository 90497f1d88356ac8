namespace FacialKeypoints.Inference.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesPublicApiTxt() => PublicApi.Verify(typeof(FacePipeline).Assembly);
}

using FacialKeypoints.Tests;

namespace FacialKeypoints.Data.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesPublicApiTxt() => PublicApi.Verify(typeof(KeypointDataset).Assembly);
}

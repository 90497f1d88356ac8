using FacialKeypoints.Tests;

namespace FacialKeypoints.Models.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesPublicApiTxt() => PublicApi.Verify(typeof(KeypointNetwork).Assembly);
}

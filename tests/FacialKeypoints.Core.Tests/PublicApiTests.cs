using FacialKeypoints.Tests;

namespace FacialKeypoints.Core.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesPublicApiTxt() => PublicApi.Verify(typeof(LandmarkScheme).Assembly);
}

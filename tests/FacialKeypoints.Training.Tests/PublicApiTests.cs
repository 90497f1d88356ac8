using FacialKeypoints.Tests;

namespace FacialKeypoints.Training.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesPublicApiTxt() => PublicApi.Verify(typeof(KeypointTrainer).Assembly);
}

using FacialKeypoints.Tests;

namespace FacialKeypoints.Emotion.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesPublicApiTxt() => PublicApi.Verify(typeof(IExpressionClassifier).Assembly);
}

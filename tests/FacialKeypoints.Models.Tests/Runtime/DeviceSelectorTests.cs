using FacialKeypoints.Models.Runtime;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Runtime;

public class DeviceSelectorTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData(" cpu ")]
    public void Resolve_Cpu_ReturnsCpu(string name) =>
        DeviceSelector.Resolve(name).type.Should().Be(TorchSharp.DeviceType.CPU);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("auto")]
    public void Resolve_Auto_PicksCudaOnlyWhenAvailable(string? name) =>
        DeviceSelector.Resolve(name).type.Should().Be(cuda.is_available() ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU);

    [Fact]
    public void Resolve_CudaWithoutGpu_ThrowsClearError()
    {
        if (cuda.is_available())
        {
            DeviceSelector.Resolve("cuda").type.Should().Be(TorchSharp.DeviceType.CUDA);
            return;
        }

        var act = () => DeviceSelector.Resolve("cuda");

        act.Should().Throw<InvalidOperationException>().WithMessage("*CUDA is not available*");
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void Resolve_UnknownName_ThrowsArgumentException(string name)
    {
        var act = () => DeviceSelector.Resolve(name);

        act.Should().Throw<ArgumentException>().WithMessage($"*{name}*");
    }
}

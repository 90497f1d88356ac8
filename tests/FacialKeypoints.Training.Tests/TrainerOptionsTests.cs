using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Training.Tests;

public sealed class TrainerOptionsTests
{
    [Fact]
    public void Defaults_ReproduceReference()
    {
        var options = new TrainerOptions();
        options.Epochs.Should().Be(40);
        options.BatchSize.Should().Be(64);
        options.LearningRate.Should().Be(1e-3);
        options.WeightDecay.Should().Be(1e-4);
        options.GradientClipNorm.Should().Be(5);
        options.Loss.Should().Be(LossKind.SmoothL1);
        options.SmoothL1Beta.Should().Be(1);
        options.ValidationFraction.Should().Be(0.1);
        options.InputSize.Should().Be(224);
        options.FlipProbability.Should().Be(0.5);
        options.Validate();
    }

    [Fact]
    public void LearningRateAt_CosineFromPeakTowardsZero()
    {
        var options = new TrainerOptions { Epochs = 10 };
        options.LearningRateAt(0).Should().Be(1e-3);
        options.LearningRateAt(5).Should().BeApproximately(5e-4, 1e-12);
        options.LearningRateAt(9).Should().BeLessThan(5e-5);
    }

    [Fact]
    public void LearningRateAt_WarmupRisesLinearly()
    {
        var options = new TrainerOptions { Epochs = 10, WarmupEpochs = 1 };
        options.LearningRateAt(0).Should().BeApproximately(5e-4, 1e-12);
        options.LearningRateAt(1).Should().Be(1e-3);
    }

    [Theory]
    [InlineData(nameof(TrainerOptions.InputSize), 100)]
    [InlineData(nameof(TrainerOptions.Epochs), 0)]
    [InlineData(nameof(TrainerOptions.BatchSize), 0)]
    [InlineData(nameof(TrainerOptions.WarmupEpochs), 40)]
    public void Validate_BadValue_Throws(string property, int value)
    {
        var options = new TrainerOptions();
        typeof(TrainerOptions).GetProperty(property)!.SetValue(options, value);
        FluentActions.Invoking(options.Validate).Should().Throw<ValidationException>();
    }

    [Theory]
    [InlineData("cpu", true)]
    [InlineData("CUDA", true)]
    [InlineData("cuda:1", true)]
    [InlineData("auto", true)]
    [InlineData("gpu", false)]
    [InlineData("cuda:", false)]
    public void Validate_Device_AcceptsCpuCudaAndAuto(string device, bool valid)
    {
        var options = new TrainerOptions { Device = device };
        var validate = FluentActions.Invoking(options.Validate);
        if (valid)
        {
            validate.Should().NotThrow();
        }
        else
        {
            validate.Should().Throw<ValidationException>().WithMessage("*cpu, cuda, cuda:N or auto*");
        }
    }
}

using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests;

public class KeypointNetworkTests
{
    [Theory]
    [InlineData(68, 1)]
    [InlineData(5, 3)]
    public void Forward_TinyBatch_ReturnsTwoValuesPerKeypoint(int keypoints, int batch)
    {
        using var model = new KeypointNetwork(keypoints);
        model.eval();
        using var _ = no_grad();
        using var images = randn(batch, 3, 64, 64);

        using var output = model.call(images);

        output.shape.Should().Equal(batch, 2 * keypoints);
        model.KeypointCount.Should().Be(keypoints);
        model.Head.OutFeatures.Should().Be(2 * keypoints);
    }

    [Fact]
    public void Features_TinyBatch_ReturnsPooledBackboneFeatures()
    {
        using var model = new KeypointNetwork(5);
        model.eval();
        using var _ = no_grad();
        using var images = randn(2, 3, 64, 64);

        using var features = model.Features(images);
        var (keypoints, sameFeatures) = model.ForwardWithFeatures(images);
        using var k = keypoints;
        using var f = sameFeatures;
        using var expected = model.call(images);

        features.shape.Should().Equal(2, 512);
        f.allclose(features).Should().BeTrue();
        k.allclose(expected).Should().BeTrue();
    }

    [Fact]
    public void StateDict_ReferenceHead_NamesBackboneAndHead()
    {
        using var model = new KeypointNetwork(5, headOptions: new ReferenceHeadOptions { HiddenFeatures = 32, Dropout = 0.1 });

        var names = model.state_dict().Keys.ToList();

        names.Should().Contain(["backbone.conv1.weight", "backbone.layer4.1.bn2.running_var", "head.hidden.weight", "head.output.bias"]);
        model.state_dict()["head.output.weight"].shape.Should().Equal(10, 32);
    }

    [Fact]
    public void Constructor_HeadWidthDiffersFromBackbone_Throws()
    {
        using var backbone = new ResNet18Backbone();
        using var head = new ReferenceHead(256, 5);

        var act = () => new KeypointNetwork(backbone, head);

        act.Should().Throw<ArgumentException>().WithMessage("*256*512*");
    }

    [Fact]
    public void ReferenceHeadOptions_DropoutOutOfRange_FailsValidation()
    {
        var act = () => new ReferenceHead(512, 5, new ReferenceHeadOptions { Dropout = 1.5 });

        act.Should().Throw<System.ComponentModel.DataAnnotations.ValidationException>();
    }

    [Fact]
    public void CustomHead_PluggedIn_TrainsWithRightShapes()
    {
        torch.manual_seed(1);
        using var model = new KeypointNetwork(new ResNet18Backbone(), new TinyHead(512, 3));
        model.train();
        using var images = randn(2, 3, 64, 64);
        using var target = rand(2, 6).mul_(2).sub_(1);
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        var losses = new List<float>();

        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var output = model.call(images);
            output.shape.Should().Equal(2, 6);
            using var loss = nn.functional.mse_loss(output, target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        model.Head.Should().BeOfType<TinyHead>();
        model.Head.Kind.Should().Be("tiny");
        losses[^1].Should().BeLessThan(losses[0]);
        model.named_parameters().Select(p => p.name).Should().Contain("head.linear.weight");
    }

    [Fact]
    public void Forward_UnderScopeWithoutGrad_LeavesNoLiveTensors()
    {
        using var model = new KeypointNetwork(5);
        model.eval();
        using var images = randn(1, 3, 64, 64);
        long before = Tensor.TotalCount;
        List<IDisposable> created;

        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            _ = model.call(images);
            scope.DisposablesCount.Should().Be(1, "intermediates are disposed inside forward; only the output is live");
            _ = model.ForwardWithFeatures(images);
            _ = model.Features(images);
            scope.DisposablesCount.Should().Be(4);
            created = [.. scope.DisposablesView];
        }

        created.Cast<Tensor>().Should().OnlyContain(t => t.IsInvalid);
        Tensor.TotalCount.Should().Be(before);
        images.IsInvalid.Should().BeFalse("the caller's input is never disposed");
    }

    /// <summary>A minimal custom head: one linear layer.</summary>
    private sealed class TinyHead : KeypointHead
    {
        private readonly TorchSharp.Modules.Linear linear;

        public TinyHead(int inFeatures, int keypointCount)
            : base(nameof(TinyHead), inFeatures, keypointCount)
        {
            linear = nn.Linear(inFeatures, OutFeatures);
            RegisterComponents();
        }

        public override string Kind => "tiny";

        public override Tensor forward(Tensor input) => linear.call(input);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                linear.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

namespace FacialKeypoints.Data.Transforms;

/// <summary>
/// A step that maps a face sample to a new one. Geometric transforms move pixels and keypoints together;
/// photometric ones change pixels only. Implement <see cref="KeypointTransform{TParameters}"/> for a random
/// transform so that sampling its parameters stays apart from applying them.
/// </summary>
public interface IKeypointTransform
{
    /// <summary>Whether <see cref="Apply"/> draws from the random generator (false: the result depends on the sample alone).</summary>
    bool IsRandom { get; }

    /// <summary>Applies the transform, drawing any random parameters from <paramref name="random"/>.</summary>
    FaceSample Apply(FaceSample sample, Random random);
}

/// <summary>
/// A transform whose random parameters are sampled first (<see cref="Sample"/>) and then applied
/// deterministically (<see cref="Apply(FaceSample, TParameters)"/>), so tests can fix the parameters and
/// runs are reproducible from a seed.
/// </summary>
/// <typeparam name="TParameters">The parameters one application needs.</typeparam>
public abstract class KeypointTransform<TParameters> : IKeypointTransform
{
    /// <inheritdoc/>
    public virtual bool IsRandom => true;

    /// <summary>Draws the parameters for one application.</summary>
    public abstract TParameters Sample(FaceSample sample, Random random);

    /// <summary>Applies the transform with given parameters. Must not draw random numbers.</summary>
    public abstract FaceSample Apply(FaceSample sample, TParameters parameters);

    /// <inheritdoc/>
    public FaceSample Apply(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(random);
        return Apply(sample, Sample(sample, random));
    }
}

/// <summary>Applies transforms in order.</summary>
public sealed class Compose : IKeypointTransform
{
    private readonly IKeypointTransform[] steps;

    /// <summary>Creates the pipeline.</summary>
    public Compose(params IEnumerable<IKeypointTransform> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        this.steps = [.. steps];
        if (this.steps.Any(s => s is null))
        {
            throw new ArgumentException("A pipeline step is null.", nameof(steps));
        }
    }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<IKeypointTransform> Steps => steps;

    /// <inheritdoc/>
    public bool IsRandom => steps.Any(s => s.IsRandom);

    /// <inheritdoc/>
    public FaceSample Apply(FaceSample sample, Random random)
    {
        foreach (var step in steps)
        {
            sample = step.Apply(sample, random);
        }

        return sample;
    }
}

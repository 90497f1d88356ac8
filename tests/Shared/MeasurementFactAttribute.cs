namespace FacialKeypoints.Tests;

/// <summary>A fact that runs only when <c>FKP_MEASURE=1</c>: measurements for the docs, not checks.</summary>
public sealed class MeasurementFactAttribute : FactAttribute
{
    public MeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("FKP_MEASURE") != "1")
        {
            Skip = "A measurement for the docs: run with FKP_MEASURE=1.";
        }
    }
}

/// <summary>A theory that runs only when <c>FKP_MEASURE=1</c>: measurements for the docs, not checks.</summary>
public sealed class MeasurementTheoryAttribute : TheoryAttribute
{
    public MeasurementTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("FKP_MEASURE") != "1")
        {
            Skip = "A measurement for the docs: run with FKP_MEASURE=1.";
        }
    }
}

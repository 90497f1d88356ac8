namespace FacialKeypoints.Cli;

/// <summary>What a command does with an input file it cannot read (<c>--on-bad-file</c>).</summary>
internal enum BadFileChoice
{
    /// <summary>Name the file on one line of standard error, go on with the others, and exit 1 at the end.</summary>
    Skip,

    /// <summary>Stop at the first one: one line naming it, exit 2.</summary>
    Fail,
}

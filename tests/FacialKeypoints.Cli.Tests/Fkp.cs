namespace FacialKeypoints.Cli.Tests;

/// <summary>Runs an <c>fkp</c> command line in-process, as the tool would, capturing standard output and error.</summary>
internal static class Fkp
{
    public static (int Code, string Output, string Errors) Run(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var (previousOut, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(errors);
        try
        {
            return (FkpCommandLine.Run(args), output.ToString(), errors.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }
    }
}

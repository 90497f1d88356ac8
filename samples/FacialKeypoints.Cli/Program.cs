// fkp: the command line of FacialKeypoints.NET. The commands live in their own files; FkpCommandLine builds the tree.
return FacialKeypoints.Cli.FkpCommandLine.Run(args);

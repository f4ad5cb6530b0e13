"""One module per `tollgate` verb: add_arguments(parser) and run(args) -> exit code."""

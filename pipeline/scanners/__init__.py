"""Scanner runners: one module per tool behind pipeline.scanners.base.Scanner."""

"""The flows: each decides one job from a typed request, whichever front door asked.

The front doors (the CLI verbs in `pipeline/commands/`, the action steps in `pipeline/action/`
and the importer Lambda) only translate argv, step environment or an S3 event into a request:

- `verdict`: results files + `.tollgate.yml` + baseline -> the gate's verdict (one reading of each);
- `scan`: run the scanners, normalize, decide, write the reports and publish;
- `normalize`: scanner reports -> one Results, written as SARIF, ASFF and the results file;
- `publish`: results files -> Security Hub, with the finding lifecycle.
"""

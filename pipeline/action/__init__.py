"""The Python side of Tollgate's composite actions: `python -m pipeline.action COMMAND`.

Every step of `action.yml` and `actions/*/action.yml` that does work runs this package, the shape
of pypa/gh-action-pip-audit: the step's `env:` carries each input in a namespaced `TOLLGATE_*`
variable, and the command turns them into the request of a flow (`pipeline/flows/`), the same
flows the CLI verbs call. No input ever reaches a shell script or a command string, so no input
can become code. Outputs go to
`$GITHUB_OUTPUT` with a random heredoc delimiter, so no value can forge another output.

Commands (each reads only its `TOLLGATE_*` variables and the runner's `GITHUB_*`/`RUNNER_*`):
  mask          `::add-mask::` every line of every `TOLLGATE_SECRET_*` value             (env.py)
  guard         which side effects the run may have: SARIF upload and AWS on pull requests and forks (guards.py)
  plan          what the runner prepares (installs, caches, ZAP) for the scan the config asks for (plan.py)
  scan          the scan flow, then SARIF split per category and the outputs             (scan.py)
  gate          the verdict with annotations; fails on a failed gate (fail-job) or a failed scanner  (gate.py)
  publish       merge the SARIF of earlier scans per category, and the combined verdict (publish.py)
  securityhub   the publish flow with the categories that were scanned                   (publish.py)
  summary       the verdict's job summary, appended to the step summary                  (publish.py)
  start-zap / stop-zap          the ZAP daemon in its official container, bound to 127.0.0.1  (zap_daemon.py)
  install-dependency-check      download, verify and unpack the dependency-check CLI  (dependency_check.py)

One module per job: `env.py` reads inputs and writes outputs, `out_dir.py` picks the output folder,
`sarif_split.py` splits SARIF per category, and `__main__.py` holds the command table. Exit codes
are tollgate's: 0 ok, 1 the gate failed, 2 usage/config/input, 3 a tool failed.
"""

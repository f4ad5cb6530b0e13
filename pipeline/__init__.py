"""Everything with side effects: the `tollgate` CLI, config, scanners, gate, publishers, reports."""

"""Proposed fixes Tollgate writes beside the scan results (never applied to the repository)."""

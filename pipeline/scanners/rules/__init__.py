"""Tollgate's Semgrep rule set (semgrep.yml), shipped as package data."""

"""Emitters: Findings out as SARIF (GitHub code scanning) and ASFF (AWS Security Hub)."""

"""Data tables the normalizers read: check equivalences and severity calibration (see docs/severity.md)."""

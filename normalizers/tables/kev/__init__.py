"""The bundled CISA KEV snapshot (README.md beside it says where it comes from)."""

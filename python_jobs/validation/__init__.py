"""Validation at the edge: payload envelopes (pydantic) and vectorised record checks (DuckDB SQL)."""

"""Parsers: payload text -> records to validate, for every endpoint Phase 1 lands."""

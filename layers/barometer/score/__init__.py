"""Scoring: the eight indicators, normalisation, aggregation, sensitivity and topics."""

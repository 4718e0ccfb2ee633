"""Intake: validation, normalisation, idempotency, producing source records to Kafka.

Its HTTP routes are mounted by the API process (``services.api``); see
docs/architecture.md for why.
"""

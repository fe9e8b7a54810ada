"""Repayments: quote, pay, verify, settle, track and retry (see README, "Repayments")."""

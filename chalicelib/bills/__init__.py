"""Saved bills, reminders, scheduled and automatic repayments (see README, "Bills and reminders")."""

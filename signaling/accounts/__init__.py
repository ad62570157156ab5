"""Accounts and who may do what.

Accounts and licence seats, passwords, sessions, sign-in throttling, API tokens,
the audit log, CSV import and the permission matrix.
"""

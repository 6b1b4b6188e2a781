"""Consent (GDPR Art. 7): the ledger, double opt-in, and public inquiries with their consents."""

"""The deletion ledger: what was deleted, anonymised or kept restricted, recorded outside the
database that backups restore (``store``), by keyed hashes of each row's natural identity
(``rows``), so that ``app.privacy.restore`` can re-apply it after a restore."""

"""Data-subject requests (GDPR Art. 15-21), from intake to the certificate.

What callers use:

- ``intake``: filing a request, verification, deadlines, refusal, cancellation, events;
- ``processing``: asking for a verified request to be carried out, the job that does it,
  and the reconciler that re-enqueues lost jobs;
- ``export_files``: the export packages on disk: handing one out (``open_export``),
  expiry and deletion; ``export_parts.account_tables``: what a dealer's account holds;
- ``erasure_preview``: what an erasure will do, for the operator to confirm;
- ``erasure_rows``: what an erasure does to one row (also used by the lifecycle sweeps);
- ``erasure_ledger``: the erasure ledger and its replay after a backup restore;
- ``rectification``, ``restriction``: proposing corrections, restricting and lifting;
- ``links`` (signed links in e-mails), ``progress`` (how far a request is),
  ``subjects`` (whose rows a request is about).

Inside the package: ``export`` (the job that writes a package), ``export_summary``,
``erasure`` (the erasure job), ``scan`` and ``recipients``. Jobs are put on the queue
by ``app.queueing``.
"""

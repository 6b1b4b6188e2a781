"""The end of things: dealer accounts and users, the retention sweeps, the usage log.

A dealer account ends in three steps: ``termination`` (day 0), ``account_deletion`` (day
``ACCOUNT_DELETION_AFTER_DAYS``) and ``records`` (after ``BUSINESS_RECORD_YEARS``), built
from ``steps``; ``account_export`` is the data export tool; ``users`` anonymises
deactivated users. ``retention`` lists the sweeps (in ``sweeps``, built from ``sweeping``)
and runs them; ``usage_log`` records page views. The periods are in ``app.domain.periods``.
"""

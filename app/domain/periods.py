"""The periods the product promises: how long data are kept and when an answer is due.

One home for each: the models' privacy declarations, config.py's defaults, the retention
sweeps, the account steps, the staff labels and the mail templates read them here. Those
config.py declares can be changed per deployment through the environment.
"""

from __future__ import annotations

# Business records (sales, and a terminated dealer's cars, clients and sales) are kept this
# long for accounting law, restricted, then erased.
BUSINESS_RECORD_YEARS = 3
# A closed privacy request (the proof of how it was answered) is kept this long.
REQUEST_RECORD_YEARS = 3
# A privacy request is answered within this many days of receipt (GDPR Art. 12(3)).
REQUEST_RESPONSE_DAYS = 30
# An open request this close to its deadline counts as due soon (staff reminders).
REQUEST_DUE_SOON_DAYS = 5
# A request for the same person and type within this many days is flagged as a possible duplicate.
DUPLICATE_REQUEST_DAYS = 90
# A terminated dealer's account and profile data go on this day; its account export can be
# downloaded until then.
ACCOUNT_DELETION_AFTER_DAYS = 30
# A deactivated user account is anonymised this long after it was deactivated.
USER_ANONYMISE_AFTER_DAYS = 30
# Page views of signed-in users (the usage log).
USAGE_LOG_RETENTION_DAYS = 90
# Sent e-mails in the outbox.
MAIL_RETENTION_DAYS = 90
# Backups persist at most this long; the erasure ledger that re-applies erasures after a
# restore is kept as long.
BACKUP_RETENTION_DAYS = 90
# A person's data export can be downloaded this long.
PRIVACY_EXPORT_TTL_DAYS = 7
# A material privacy-policy change takes effect at least this long after it is published.
POLICY_NOTICE_DAYS = 14
# The link confirming a privacy request works this long.
PRIVACY_VERIFICATION_TTL_HOURS = 48
# An unconfirmed privacy request (name and e-mail) is deleted this long after its link expired.
UNCONFIRMED_REQUEST_GRACE_DAYS = 7
# The link confirming a marketing opt-in from a public form works this long (double opt-in).
MARKETING_CONFIRMATION_TTL_HOURS = 168
# An uploaded import (its preview and its rows) is deleted this long after the upload.
IMPORT_RETENTION_DAYS = 7

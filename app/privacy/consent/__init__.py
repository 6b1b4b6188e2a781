"""Consent (GDPR Art. 7): proof of every consent, and the ways it is given and withdrawn.

- ``ledger``: writing consent records (the one place that decides whether a visitor's IP is kept)
- ``marketing_changes``: the flush-time rule that records every other change of marketing consent
- ``withdrawal``: withdrawing marketing consent, and objections to direct marketing (Art. 21(3))
- ``unsubscribe``: the one-click withdrawal link of marketing e-mails and its RFC 8058 headers
- ``marketing_mail``: who may be sent offers, and putting an offer in the outbox
- ``opt_in``: double opt-in, confirming a marketing tick through a link mailed to the address
- ``public_inquiry``: the public inquiry form with its acknowledgement and consent
"""

"""Mail: notices rendered into the outbox in the recipient's language, and sending them.

What callers use:

- ``notices``: ``queue_notice`` renders a notice into the outbox; its send job is enqueued
  when the session commits (``send_outbox_after_commit``);
- ``audience``: who receives a notice to a dealer's users, and in which language;
- ``sending``: the send job (``send_message``) and the resend sweep (``resend_unsent``),
  called by ``jobs.mail``.
"""

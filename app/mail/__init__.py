"""Mail: notices rendered into the outbox in the recipient's language, and sending them."""

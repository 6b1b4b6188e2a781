"""Data-subject requests (GDPR Art. 15-21): intake and verification, the queue, and
the work of each right (export, erasure, restriction, rectification)."""

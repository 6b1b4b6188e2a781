"""The privacy registry and the domain services: requests (access, erasure, restriction,
rectification), lifecycle (accounts, retention), consent and transparency. No Flask request in here."""

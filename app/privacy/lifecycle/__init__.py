"""The end of things: dealer accounts and users, the retention sweeps, the usage log."""

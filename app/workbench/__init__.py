"""The data workbench's services: rules on plain values (``importing``) and the services
that read and write the database for them; no HTTP, no Flask request, no web module."""

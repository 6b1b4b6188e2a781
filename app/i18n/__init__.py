"""Languages: request-free rules and catalogues (``languages``, ``catalogues``,
``fab_strings``) and the web glue (``web``, ``localised``)."""

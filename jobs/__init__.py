"""RQ entry points: thin functions taking ids and calling domain services.

Every job runs inside the Flask app context that ``jobs.worker`` sets up.
"""

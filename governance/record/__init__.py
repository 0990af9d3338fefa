"""The tamper-evident record: PostgreSQL triggers write every change of the governed tables
into one append-only, hash-chained table, with who made it and through which path.

* ``governed``: which tables are recorded (one line each) and which are not, and why;
* ``install``: the triggers, installed after every ``migrate``;
* ``context``: who and through which path, handed to the triggers before a write;
* ``verify``: the walk along the chain that ``manage.py audit_verify`` runs.
"""

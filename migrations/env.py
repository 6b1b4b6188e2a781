import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)  # keep the app's loggers
logger = logging.getLogger("alembic.env")


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions["migrate"].db.get_engine()
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            set_sqlite_foreign_keys(connection, False)
        try:
            context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
            before = context.get_context().get_current_heads()

            with context.begin_transaction():
                context.run_migrations()
            if sqlite and context.get_context().get_current_heads() != before:
                report_foreign_key_violations(connection)  # once per upgrade: it reads every table
        finally:
            if sqlite:
                set_sqlite_foreign_keys(connection, True)


def set_sqlite_foreign_keys(connection, on: bool) -> None:
    """The app turns SQLite's foreign keys on for every connection (app.extensions);
    a batch operation recreates a table (copy, drop the old one, rename), and with them
    on, dropping the old table would delete or refuse the rows pointing at it. SQLite
    ignores the pragma inside a transaction, so it is set between transactions; the
    connection goes back to the pool with them on again."""
    if connection.in_transaction():
        connection.commit()
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def report_foreign_key_violations(connection) -> None:
    """Rows pointing at a missing row (left by a version that did not enforce foreign
    keys on SQLite): logged per table, for the operator to resolve."""
    found: dict[str, int] = {}
    for row in connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
        found[row[0]] = found.get(row[0], 0) + 1
    connection.commit()
    for table, count in sorted(found.items()):
        logger.warning("table %s has %d rows pointing at a missing row (foreign key violations)", table, count)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""The `flask --app run forecourt …` commands (thin: they call domain code)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("forecourt")
def forecourt() -> None:
    """Forecourt administration."""


@forecourt.command("init")
@with_appcontext
def init_command() -> None:
    """Compile the message catalogues, create or upgrade the schema and sync roles and
    permissions (idempotent)."""
    from flask_migrate import upgrade

    from app.i18n.catalogues import compile_catalogues
    from app.roles import sync_roles
    from app.settings_check import demo_password_in_use

    # Without the .mo files every page and e-mail is English: build them here, not only in `make`.
    try:
        compiled = compile_catalogues()
    except OSError as exc:
        raise click.ClickException(f"cannot write the compiled message catalogues ({exc}): run init as a user that can write translations/")
    if compiled:
        click.echo("message catalogues compiled: " + ", ".join(p.parent.parent.name for p in compiled))
    else:
        click.echo("message catalogues up to date")
    upgrade()
    sm = current_app.appbuilder.sm
    counts = sync_roles(current_app.appbuilder)
    click.echo("schema up to date; roles: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    from app.extensions import db
    from app.privacy.transparency.initial_policy import ensure_first_version

    first = ensure_first_version(db.session)  # a fresh install has a privacy policy at once
    db.session.commit()
    if first is not None:
        click.echo(f"privacy policy version {first.version} published")
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        weak = demo_password_in_use(sm.get_all_users())
        if weak:
            raise click.ClickException(f"{len(weak)} user(s) still have the demo password: change them first.")


@forecourt.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo data set (idempotent)."""
    from app.demo import load_demo

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is not loaded in production.")
    summary = load_demo()
    click.echo("demo data: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@forecourt.command("is-empty")
@with_appcontext
def is_empty_command() -> None:
    """Exit 0 when the database has no users yet (used by `make run`)."""
    from app.provisioning import has_users

    raise SystemExit(1 if has_users() else 0)


@forecourt.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--dealer", "dealer_slug", default=None, help="Slug of the dealer (dealer roles).")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@with_appcontext
def create_user_command(username, password, email, role, dealer_slug, first_name, last_name) -> None:
    """Create a user with one role (and a dealer for dealer roles)."""
    from app.provisioning import AccountError, create_user

    try:
        user = create_user(username, password, email, role, dealer_slug, first_name, last_name)
    except AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"created user {user.username} (id {user.id})")


@forecourt.command("create-dealer")
@click.option("--slug", required=True, help="Lower-case letters, digits and dashes: /d/<slug>/… and --dealer of create-user.")
@click.option("--name", "business_name", required=True, help="The business name.")
@click.option("--country", default="DE", show_default=True, help="ISO 3166 two-letter code.")
@click.option("--city", default=None)
@click.option("--email", default=None)
@click.option("--timezone", default="Europe/Berlin", show_default=True, help="An IANA time zone, e.g. Europe/Kyiv.")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 code of the default currency.")
@with_appcontext
def create_dealer_command(slug, business_name, country, city, email, timezone, currency) -> None:
    """Create a dealer (a tenant), validated like the dealer form."""
    from app.provisioning import AccountError, create_dealer

    try:
        dealer = create_dealer(slug, business_name, country=country, city=city, email=email, timezone=timezone, currency=currency)
    except AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"created dealer {dealer.slug} (id {dealer.id})")


@forecourt.command("seed")
@click.option("--dealers", default=3, show_default=True)
@click.option("--cars", default=50, show_default=True, help="Per dealer.")
@click.option("--clients", default=50, show_default=True, help="Per dealer.")
@click.option("--inquiries", default=50, show_default=True, help="Per dealer.")
@click.option("--sales", default=10, show_default=True, help="Per dealer.")
@with_appcontext
def seed_command(dealers, cars, clients, inquiries, sales) -> None:
    """Bulk synthetic data for load and UI work."""
    from app.demo import seed

    summary = seed(dealers=dealers, cars=cars, clients=clients, inquiries=inquiries, sales=sales)
    click.echo("seeded: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@forecourt.command("replay-erasures")
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Only ledger entries from this date (YYYY-MM-DD) or ISO date-time (e.g. the backup's) on; default: all of them.",
)
@with_appcontext
def replay_erasures_command(since) -> None:
    """Re-apply the deletion ledger (kept outside the database) after restoring a backup."""
    from app.domain import DomainError
    from app.privacy.restore import SKIPPED, replay_deletions

    try:
        summary = replay_deletions(since=since)
    except DomainError as exc:
        raise click.BadParameter(str(exc.message), param_hint="--since")
    skipped = summary.pop(SKIPPED)
    click.echo("replayed: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    click.echo(f"left alone (another row under a ledgered key): {skipped}")


@forecourt.command("retention")
@click.option(
    "--as-of", "as_of", default=None, metavar="DATE", help="YYYY-MM-DD (start of that day, UTC) or an ISO date-time; default now."
)
@click.option("--dry-run", is_flag=True, help="Only count what the sweeps would do; change nothing.")
@click.option("--only", "only", multiple=True, metavar="NAME", help="Run only this sweep (repeatable).")
@with_appcontext
def retention_command(as_of, dry_run, only) -> None:
    """Run the retention sweeps (daily and hourly) as of a date; print what they did."""
    from app.domain import DomainError
    from app.privacy.lifecycle import retention

    try:
        when = retention.parse_as_of(as_of)
        chosen = [s.name for s in retention.select_sweeps(list(only) or None)]
    except DomainError as exc:
        raise click.BadParameter(str(exc.message), param_hint="--as-of" if exc.field == "as_of" else "--only")
    try:
        results = retention.run_sweeps(chosen, as_of=when, dry_run=dry_run)
    except retention.SweepsFailed as exc:
        click.echo(retention.report(exc.results, when, dry_run))
        raise click.ClickException(str(exc))
    click.echo(retention.report(results, when, dry_run))


@forecourt.command("worker")
@click.option("--queue", "queues", multiple=True, default=["default"], show_default=True)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker_command(queues, burst) -> None:
    """Run an RQ worker."""
    from jobs.worker import run_worker

    run_worker(current_app._get_current_object(), list(queues), burst=burst)


@forecourt.command("cron")
def cron_command() -> None:
    """Run the cron scheduler (exactly one per deployment)."""
    from jobs.worker import run_cron

    run_cron(current_app._get_current_object())

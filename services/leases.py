"""Named leases: a piece of work held by one worker at a time, across any number of processes.

A lease is a row (name, owner, claimed_until). It is taken when it does not exist (an insert; the
primary key lets one insert win) or when it has run out (a conditional update: only the update
that still finds it expired changes it), renewed by its owner, and deleted when released. A
worker that crashes keeps nothing for longer than the lease: another takes it over once it has
run out. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError, TransactionManagementError
from tortoise.transactions import in_transaction

from models import JobLease
from models.clock import now


def new_owner() -> str:
    """A fresh owner token (one per worker pass or lane)."""
    return secrets.token_hex(16)


async def claim(name: str, owner: str, seconds: float) -> datetime | None:
    """Takes the lease `name` for `seconds` if nobody holds it or its holder's time ran out;
    returns when it runs out, or None when someone else holds it. A lease we hold already is
    not taken again (use `renew`)."""
    at = now()
    until = at + timedelta(seconds=seconds)
    try:
        # In its own transaction, so a lost race leaves no aborted transaction behind.
        async with in_transaction():
            await JobLease.create(name=name, owner=owner, claimed_until=until)
        return until
    except (IntegrityError, TransactionManagementError):
        pass  # it exists: take it over only if it has run out
    taken = await JobLease.filter(name=name, claimed_until__lt=at).update(
        owner=owner, claimed_until=until
    )
    return until if taken == 1 else None


async def renew(name: str, owner: str, seconds: float) -> datetime | None:
    """Extends our lease; returns when it runs out now, or None when it is no longer ours (it
    ran out and was taken)."""
    until = now() + timedelta(seconds=seconds)
    renewed = await JobLease.filter(name=name, owner=owner).update(claimed_until=until)
    return until if renewed else None


async def release(name: str, owner: str) -> None:
    """Gives the lease up (if it is still ours)."""
    await JobLease.filter(name=name, owner=owner).delete()


async def purge(older_than: timedelta = timedelta(days=1)) -> int:
    """Deletes leases that ran out long ago (left by workers that died holding them)."""
    return await JobLease.filter(claimed_until__lt=now() - older_than).delete()

"""Create an API client and print its token (shown once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import OrgUnit
from ltc.api.scopes import all_scopes
from ltc.api.services import api_client_create
from ltc.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API client; prints the token once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            default=[],
            help=f"Repeat for each scope. Known: {', '.join(all_scopes())}",
        )
        parser.add_argument("--org-unit", help="Org unit code, external id or id that bounds what it sees.")

    def handle(self, *args, name: str, scopes: list[str], org_unit: str | None, **options):
        unit = None
        if org_unit:
            unit = (
                OrgUnit.objects.filter(code=org_unit).first()
                or OrgUnit.objects.filter(external_id=org_unit).first()
                or (OrgUnit.objects.filter(pk=int(org_unit)).first() if org_unit.isdigit() else None)
            )
            if unit is None:
                raise CommandError(f"No org unit {org_unit!r}.")
        try:
            client, token = api_client_create(name=name, scopes=scopes, org_unit=unit)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.extra}") from exc
        self.stdout.write(f"API client #{client.pk} {client.name} scopes={client.scopes}")
        self.stdout.write(f"Token (shown once): {token}")

"""The org tree (HQ → regions → rep offices → account departments) and the people in every job role."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from accounts.models import OrgUnit, User
from ltc.seed import vocab
from ltc.seed.base import Clock, Loader, Rand

DEMO_PASSWORD = "Ltc-demo-2026!"
ADMIN_PASSWORD = "Ltc-admin-2026!"
DEPT_KINDS = tuple(d[0] for d in vocab.ACCOUNT_DEPTS)


@dataclass
class Dept:
    index: int
    unit_id: int
    kind: str  # CARRIER / GOV / FIN / ENERGY
    kind_index: int
    office: Office
    name: str
    market_type: str
    manager_id: int = 0
    reps: list[int] = field(default_factory=list)
    srs: list[int] = field(default_factory=list)
    frs: list[int] = field(default_factory=list)
    customers: list[int] = field(default_factory=list)  # customer indexes


@dataclass
class Office:
    unit_id: int
    key: str
    city: str
    region: Region
    manager_id: int = 0
    depts: list[Dept] = field(default_factory=list)


@dataclass
class Region:
    unit_id: int
    key: str
    manager_id: int = 0
    offices: list[Office] = field(default_factory=list)


@dataclass
class Org:
    hq_id: int
    ceo_id: int = 0
    admin_id: int = 0
    regions: list[Region] = field(default_factory=list)
    depts: list[Dept] = field(default_factory=list)
    offices: list[Office] = field(default_factory=list)
    # user id -> org unit id, for rows that record "the rep's unit".
    user_unit: dict[int, int] = field(default_factory=dict)
    units: list[tuple] = field(default_factory=list)  # (id, kind, parent id) for KPI roll-ups


def offices_per_region(scale: int) -> int:
    return 1 if scale < 2_000 else 2 if scale < 20_000 else 3


def reps_per_dept(scale: int, depts: int) -> int:
    # About one rep per 350 opportunities: 5,000 people at 1M opportunities (QUALITY.md's scale).
    return max(2, round(scale / 350 / depts))


def person_name(rand: Rand) -> str:
    return rand.pick(vocab.SURNAMES) + rand.pick(vocab.GIVEN)


def build_org(*, loader: Loader, rand: Rand, clock: Clock, scale: int, say) -> Org:
    units = loader.table(
        OrgUnit,
        (
            "id",
            "code",
            "name",
            "name_en",
            "kind",
            "parent_id",
            "path",
            "depth",
            "manager_id",
            "market_type",
            "is_active",
            "created_at",
            "updated_at",
        ),
    )
    created = clock.at(900 * Clock.DAY)
    per_region = offices_per_region(scale)
    n_units = 1 + len(vocab.REGIONS) * (1 + per_region * (1 + len(vocab.ACCOUNT_DEPTS)))
    next_unit = loader.first_id(OrgUnit, n_units)
    unit_rows: dict[int, list] = {}

    def add_unit(code, name, name_en, kind, parent, market_type) -> tuple[int, str]:
        nonlocal next_unit
        uid, next_unit = next_unit, next_unit + 1
        parent_id, parent_path, depth = (
            (None, "/", 0) if parent is None else (parent[0], parent[1], parent[2] + 1)
        )
        path = f"{parent_path}{uid}/"
        unit_rows[uid] = [
            uid,
            code,
            name,
            name_en,
            kind,
            parent_id,
            path,
            depth,
            None,
            market_type,
            True,
            created,
            created,
        ]
        org.units.append((uid, kind, parent_id))
        return uid, path, depth

    org = Org(hq_id=0)
    hq = add_unit("HQ", "总部", "Headquarters", OrgUnit.Kind.HQ, None, "MATURE")
    org.hq_id = hq[0]
    for r_code, r_key, r_name, r_name_en, r_market, offices in vocab.REGIONS:
        region_unit = add_unit(r_code, r_name, r_name_en, OrgUnit.Kind.REGION, hq, r_market)
        region = Region(unit_id=region_unit[0], key=r_key)
        org.regions.append(region)
        for o_code, o_key, city, city_en, o_market in offices[:per_region]:
            office_unit = add_unit(
                f"{r_code}-{o_code}",
                f"{city}代表处",
                f"{city_en} Office",
                OrgUnit.Kind.REP_OFFICE,
                region_unit,
                o_market,
            )
            office = Office(unit_id=office_unit[0], key=o_key, city=city, region=region)
            region.offices.append(office)
            org.offices.append(office)
            for k, (d_code, _d_key, d_name, d_name_en, _industries) in enumerate(vocab.ACCOUNT_DEPTS):
                # Energy is new ground almost everywhere; overseas everything is breakthrough work.
                market = o_market
                if d_code == "ENERGY" and o_market != "MATURE":
                    market = "BREAKTHROUGH"
                dept_unit = add_unit(
                    f"{r_code}-{o_code}-{d_code}",
                    f"{city}{d_name}",
                    f"{city_en} {d_name_en}",
                    OrgUnit.Kind.ACCOUNT_DEPT,
                    office_unit,
                    market,
                )
                dept = Dept(
                    index=len(org.depts),
                    unit_id=dept_unit[0],
                    kind=d_code,
                    kind_index=k,
                    office=office,
                    name=f"{city}{d_name}",
                    market_type=market,
                )
                office.depts.append(dept)
                org.depts.append(dept)

    _build_users(loader=loader, rand=rand, clock=clock, scale=scale, org=org, unit_rows=unit_rows)
    for row in unit_rows.values():
        units.add(tuple(row))
    say(f"  org units: {len(unit_rows)}, people: {len(org.user_unit)}")
    return org


def _build_users(*, loader: Loader, rand: Rand, clock: Clock, scale: int, org: Org, unit_rows: dict) -> None:
    users = loader.table(
        User,
        (
            "id",
            "password",
            "is_superuser",
            "username",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "full_name",
            "org_unit_id",
            "manager_id",
            "job_role",
            "preferred_language",
            "phone",
            "updated_at",
        ),
    )
    demo_hash = make_password(DEMO_PASSWORD)  # hashed once: every demo person shares it
    admin_hash = make_password(ADMIN_PASSWORD)
    per_dept_reps = reps_per_dept(scale, len(org.depts))
    per_dept_experts = max(1, round(per_dept_reps / 3))
    total = (
        3 + len(org.regions) + len(org.offices) + len(org.depts) * (1 + per_dept_reps + 2 * per_dept_experts)
    )
    next_user = loader.first_id(User, total)
    joined = clock.at(800 * Clock.DAY)
    R = User.JobRole

    def add_user(
        username,
        role,
        unit_id,
        manager_id,
        *,
        password=demo_hash,
        superuser=False,
        language="zh-hans",
        name=None,
    ) -> int:
        nonlocal next_user
        uid, next_user = next_user, next_user + 1
        users.add(
            (
                uid,
                password,
                superuser,
                username,
                f"{username}@ltc-demo.example",
                superuser,
                True,
                joined,
                name or person_name(rand),
                unit_id,
                manager_id,
                role,
                language,
                f"139{uid:08d}",
                joined,
            )
        )
        org.user_unit[uid] = unit_id
        return uid

    org.admin_id = add_user(
        "admin", R.ADMIN, org.hq_id, None, password=admin_hash, superuser=True, name="系统管理员"
    )
    org.ceo_id = add_user("ceo", R.EXECUTIVE, org.hq_id, None)
    add_user("cfo", R.EXECUTIVE, org.hq_id, org.ceo_id)
    unit_rows[org.hq_id][8] = org.ceo_id
    for region in org.regions:
        language = "en" if region.key == "intl" else "zh-hans"
        region.manager_id = add_user(
            f"mgr_{region.key}", R.MANAGER, region.unit_id, org.ceo_id, language=language
        )
        unit_rows[region.unit_id][8] = region.manager_id
        for office in region.offices:
            office.manager_id = add_user(
                f"mgr_{office.key}", R.MANAGER, office.unit_id, region.manager_id, language=language
            )
            unit_rows[office.unit_id][8] = office.manager_id
            counters = {"rep": 0, "sr": 0, "fr": 0}
            for dept in office.depts:
                dept_key = vocab.ACCOUNT_DEPTS[dept.kind_index][1]
                dept.manager_id = add_user(
                    f"mgr_{office.key}_{dept_key}",
                    R.MANAGER,
                    dept.unit_id,
                    office.manager_id,
                    language=language,
                )
                unit_rows[dept.unit_id][8] = dept.manager_id
                for prefix, role, count, bucket in (
                    ("rep", R.SALES_REP, per_dept_reps, dept.reps),
                    ("sr", R.SOLUTION_EXPERT, per_dept_experts, dept.srs),
                    ("fr", R.DELIVERY_EXPERT, per_dept_experts, dept.frs),
                ):
                    for _ in range(count):
                        counters[prefix] += 1
                        bucket.append(
                            add_user(
                                f"{prefix}_{office.key}_{counters[prefix]}",
                                role,
                                dept.unit_id,
                                dept.manager_id,
                                language=language,
                            )
                        )

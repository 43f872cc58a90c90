"""The REST API for ERP and BI integration: /api/v1/.

Infrastructure shared by every resource (the resources themselves live in each app's `apis.py`):

- `authentication`: `Authorization: Token <key>` for API clients (hashed keys), session auth for the browser.
- `permissions`: scope per resource and action for clients; role + visibility for browser users; throttling.
- `views`: small generic bases (list / create / detail / update / bulk) that the apps' APIs subclass.
- `pagination`: keyset cursor on a stable unique ordering ("updated_at", "id"), never a COUNT.
- `concurrency`: ETag on reads, If-Match on updates (428 missing, 412 stale).
- `idempotency`: `Idempotency-Key` on every POST: the first response is stored and replayed.
- `bulk`: the bulk upsert engine (COPY + INSERT … ON CONFLICT on PostgreSQL, json_each upsert on SQLite).
"""

"""The Celery app. Broker: Redis when REDIS_URL is set, else kombu's filesystem transport under var/."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ltc.settings")

app = Celery("ltc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The periodic work. Times are in settings.TIME_ZONE (Asia/Shanghai by default).
app.conf.beat_schedule = {
    "funnel-rollup-refresh": {
        "task": "ltc.tasks.funnel_rollup_refresh_task",
        "schedule": 300.0,
    },
    "weekly-lead-review-reminders": {
        "task": "pipeline.tasks.lead_review_reminders_task",
        "schedule": crontab(minute=0, hour=9, day_of_week="mon"),
    },
    "invoice-overdue-scan": {
        "task": "contracts.tasks.invoice_overdue_scan_task",
        "schedule": crontab(minute=30, hour=8),
    },
    "webhook-outbox-sweep": {
        "task": "ltc.tasks.webhook_outbox_sweep_task",
        "schedule": 60.0,
    },
}

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LtcConfig(AppConfig):
    name = "ltc"
    verbose_name = _("Lead to cash 线索到回款")

    def ready(self) -> None:
        from ltc.errors import make_framework_messages_bilingual

        make_framework_messages_bilingual()

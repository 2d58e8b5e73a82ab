from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "gonghui.health"
    label = "health"
    verbose_name = "职工体检"

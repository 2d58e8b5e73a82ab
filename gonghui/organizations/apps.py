from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "gonghui.organizations"
    label = "organizations"
    verbose_name = "工会组织"

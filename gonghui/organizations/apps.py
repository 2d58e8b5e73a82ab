from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "gonghui.organizations"
    label = "organizations"
    verbose_name = "工会组织"

    def ready(self) -> None:
        from gonghui.core import workflow
        from gonghui.organizations.authorizer import OrganizationAuthorizer

        workflow.register_authorizer(OrganizationAuthorizer())

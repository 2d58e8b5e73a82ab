from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "gonghui.organizations"
    label = "organizations"
    verbose_name = "工会组织"

    def ready(self) -> None:
        from gonghui.core import registry, workflow
        from gonghui.core.permissions import Perm
        from gonghui.organizations import audit_labels
        from gonghui.organizations.authorizer import OrganizationAuthorizer
        from gonghui.organizations.permissions import GRANTS, LABELS, OrgPerm

        workflow.register_authorizer(OrganizationAuthorizer())
        registry.permissions("organizations", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS)
        registry.describe_by("organizations.organization", lambda o: o.name, only=("name",))
        registry.describe_by(
            "organizations.roleassignment",
            lambda a: "%s：%s" % (a.user.display_name or a.user.username, registry.role_label(a.role)),
            related=("user",),
        )
        registry.nav(
            registry.NavItem("organizations", "组织架构", "diagram-3", "organizations:list", (OrgPerm.ORG_VIEW,), 10)
        )
        registry.nav(
            registry.NavItem("policies", "政策与参数", "sliders", "organizations:policy_list", (Perm.POLICY_VIEW,), 900)
        )
        # Every staff user may open it; it lists only the jobs their roles let them see.
        registry.nav(registry.NavItem("jobs", "后台任务", "hourglass-split", "organizations:job_list", order=950))
